//! Making untrusted strings from findings safe to show: a finding's title, a user agent or a
//! bucket name is chosen by whoever caused the finding, and must not be able to break a subject
//! line, forge extra lines in an email, or blow the SNS size limit.

/// Replace control characters (line breaks included) and Unicode bidi overrides by a space,
/// collapse runs of whitespace, and trim.
pub fn one_line(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    for c in raw.chars() {
        if c.is_control() || c.is_whitespace() || is_invisible_format(c) {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// Bidi overrides and zero-width characters can make a notice display something other than
/// what it contains.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Truncate to at most `max` characters, marking the cut with an ellipsis.
pub fn clip(raw: &str, max: usize) -> String {
    if raw.chars().count() <= max {
        return raw.to_owned();
    }
    let mut out: String = raw.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A single-line, bounded rendering of an untrusted field.
pub fn field(raw: &str, max: usize) -> String {
    clip(&one_line(raw), max)
}

/// The JSON type of a value, for "expected an object, got an array" messages.
pub fn json_kind(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Longest field length we print in a notice body.
pub const FIELD_MAX: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_line_breaks_become_single_spaces() {
        assert_eq!(one_line("a\r\nb\tc\u{0}d\u{1b}[31m"), "a b c d [31m");
        assert_eq!(one_line("  lead\n\ntrail \n"), "lead trail");
        assert_eq!(one_line("evil\u{202E}txt.exe"), "evil txt.exe");
    }

    #[test]
    fn clipping_counts_characters_not_bytes() {
        assert_eq!(clip("héllo", 5), "héllo");
        assert_eq!(clip("héllo wörld", 6), "héllo…");
        assert_eq!(field(&"x\n".repeat(500), 10).chars().count(), 10);
    }
}
