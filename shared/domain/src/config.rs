//! Configuration, read once at start-up from the environment and typed, so that a missing or
//! malformed value stops the function at init with a clear message instead of failing every
//! event later.

use crate::dedupe::DedupePolicy;
use crate::pipeline::TriageSettings;
use chrono::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(&'static str),
    #[error("environment variable {name}={value:?} is invalid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: &'static str,
    },
}

/// A required, non-blank value.
pub fn required(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<String, ConfigError> {
    get(name)
        .filter(|v| !v.trim().is_empty())
        .ok_or(ConfigError::Missing(name))
}

/// A whole number in `min..=max`, `default` when unset.
pub fn number(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ConfigError::Invalid {
                name,
                value: raw,
                reason: "expected a whole number in the allowed range (see README)",
            }),
        },
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table_name: String,
    pub topic_arn: String,
    pub settings: TriageSettings,
    /// Per-attempt timeout of every AWS call: the SDK has none by default.
    pub aws_timeout: std::time::Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Read from any key-value source (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name| required(&get, name);
        let number = |name, default, min, max| number(&get, name, default, min, max);
        Ok(Self {
            table_name: required("TRIAGE_TABLE_NAME")?,
            topic_arn: required("TRIAGE_TOPIC_ARN")?,
            settings: TriageSettings {
                policy: DedupePolicy {
                    quiet_period: Duration::hours(number(
                        "TRIAGE_QUIET_PERIOD_HOURS",
                        24,
                        1,
                        24 * 90,
                    )?),
                },
                record_ttl: Duration::days(number("TRIAGE_RECORD_TTL_DAYS", 90, 1, 3650)?),
                look_back: Duration::minutes(number("TRIAGE_LOOKBACK_MINUTES", 60, 0, 24 * 60)?),
                min_history: Duration::days(number("TRIAGE_MIN_HISTORY_DAYS", 7, 0, 365)?),
            },
            aws_timeout: std::time::Duration::from_millis(number(
                "TRIAGE_AWS_TIMEOUT_MS",
                3000,
                100,
                60_000,
            )? as u64),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_apply_when_only_the_required_values_are_set() {
        let c = Config::from_lookup(lookup(&[
            ("TRIAGE_TABLE_NAME", "t"),
            ("TRIAGE_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:n"),
        ]))
        .unwrap();
        assert_eq!(c.settings.policy.quiet_period, Duration::hours(24));
        assert_eq!(c.settings.record_ttl, Duration::days(90));
        assert_eq!(c.settings.look_back, Duration::minutes(60));
        assert_eq!(c.aws_timeout, std::time::Duration::from_secs(3));
    }

    #[test]
    fn missing_and_malformed_values_are_named_in_the_error() {
        assert_eq!(
            Config::from_lookup(lookup(&[("TRIAGE_TABLE_NAME", "t")])).unwrap_err(),
            ConfigError::Missing("TRIAGE_TOPIC_ARN")
        );
        let err = Config::from_lookup(lookup(&[
            ("TRIAGE_TABLE_NAME", "t"),
            ("TRIAGE_TOPIC_ARN", "a"),
            ("TRIAGE_QUIET_PERIOD_HOURS", "soon"),
        ]))
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("TRIAGE_QUIET_PERIOD_HOURS=\"soon\"")
        );
    }
}
