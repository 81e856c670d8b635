//! SNS message attributes a subscriber can filter on (a filter policy on `verdict`,
//! `severity` >= 7, `account`...). Raw delivery to SQS carries at most 10 attributes, so these
//! are exactly 10.

use super::NoticeInput;
use crate::text::field;

#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    String(String),
    Number(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: &'static str,
    pub value: AttributeValue,
}

impl Attribute {
    fn string(name: &'static str, raw: &str) -> Self {
        // SNS rejects empty attribute values.
        let clean = field(raw, 256);
        let value = if clean.is_empty() {
            "unknown".into()
        } else {
            clean
        };
        Self {
            name,
            value: AttributeValue::String(value),
        }
    }

    fn number(name: &'static str, value: impl ToString) -> Self {
        Self {
            name,
            value: AttributeValue::Number(value.to_string()),
        }
    }

    /// What the attribute counts towards the 256 KiB message limit: name, type and value.
    pub fn wire_size(&self) -> usize {
        let (data_type, value) = match &self.value {
            AttributeValue::String(v) => ("String", v),
            AttributeValue::Number(v) => ("Number", v),
        };
        self.name.len() + data_type.len() + value.len()
    }
}

pub fn for_notice(input: &NoticeInput<'_>) -> Vec<Attribute> {
    let f = &input.event.finding;
    let a = input.assessment;
    vec![
        Attribute::number("severity", f.severity),
        Attribute::string("severity_band", f.severity.band().as_str()),
        Attribute::string("verdict", a.verdict.as_str()),
        Attribute::number("confidence", a.confidence),
        Attribute::string("finding_type", &f.finding_type),
        Attribute::string("account", input.event.account().unwrap_or("")),
        Attribute::string("region", input.event.region().unwrap_or("")),
        Attribute::string("notice_kind", input.kind.as_str()),
        Attribute::string("finding_id", f.id.as_str()),
        Attribute::number("notice_sequence", input.sequence),
    ]
}
