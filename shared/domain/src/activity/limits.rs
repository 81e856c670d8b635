//! Bounds on the untrusted text we keep.
//!
//! A user agent, an error message or a request parameter is chosen by whoever made the call, and
//! ends up in aggregate keys and stored items (DynamoDB items are limited to 400 KB). Each kept
//! string is cut to a bound that no legitimate value reaches; cutting is by bytes on a character
//! boundary and borrows, because it runs for every record. Rendering for people is
//! [`crate::text`]'s job.

/// Longest user agent kept (real SDK and console agents stay under 300 bytes).
pub const USER_AGENT_MAX: usize = 512;
/// Longest error message kept in a notable event.
pub const ERROR_MESSAGE_MAX: usize = 256;
/// Longest identifier-like field kept: API names, services, codes, regions, ARNs, targets.
pub const NAME_MAX: usize = 256;
/// Most targets (resources and named request parameters) kept per notable event.
pub const TARGETS_MAX: usize = 8;

/// `raw` cut to at most `max` bytes, on a character boundary.
pub fn bounded(raw: &str, max: usize) -> &str {
    if raw.len() <= max {
        return raw;
    }
    let mut end = max;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    &raw[..end]
}

/// [`bounded`] for an optional field, owned.
pub fn bounded_owned(raw: Option<&str>, max: usize) -> Option<String> {
    raw.map(|s| bounded(s, max).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_on_character_boundaries() {
        assert_eq!(bounded("abc", 5), "abc");
        assert_eq!(bounded("héllo", 2), "h");
        assert_eq!(bounded("héllo", 3), "hé");
        assert_eq!(
            bounded(&"x".repeat(10_000), USER_AGENT_MAX).len(),
            USER_AGENT_MAX
        );
    }
}
