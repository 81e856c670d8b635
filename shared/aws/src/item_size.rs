//! DynamoDB's item size, as it bills it: write units are charged per started KB of item, so
//! the size decides the cost of every write and whether an item fits under 400 KB.

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// Size of an item by DynamoDB's documented rules: attribute names plus values; strings and
/// binaries by length, numbers by about one byte per two significant digits plus one, lists and
/// maps 3 bytes plus one per element.
pub fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(v) => 3 + v.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, e)| 1 + k.len() + value_size(e))
                .sum::<usize>()
        }
        _ => 0,
    }
}

fn number_size(n: &str) -> usize {
    let digits = n
        .trim_start_matches(['-', '+'])
        .trim_start_matches('0')
        .chars()
        .filter(char::is_ascii_digit)
        .count();
    digits.div_ceil(2) + 1
}

/// Write request units one put of this item costs (1 per started KB).
pub fn write_units(item: &HashMap<String, AttributeValue>) -> usize {
    item_size(item).div_ceil(1024).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_documented_rules() {
        let mut item = HashMap::new();
        item.insert("pk".to_string(), AttributeValue::S("abc".into()));
        item.insert("n".to_string(), AttributeValue::N("12345".into()));
        // "pk" + "abc", "n" + (3 bytes for 5 digits + 1)
        assert_eq!(item_size(&item), 10);
        assert_eq!(write_units(&item), 1);
        item.insert(
            "blob".to_string(),
            AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(vec![0u8; 2048])),
        );
        assert_eq!(write_units(&item), 3);
    }
}
