//! Newtypes for the identifiers and scores a finding carries, so that a value that
//! passed the edge of the system is known to be well formed everywhere else.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a field of a finding could not be accepted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IdError {
    #[error("finding ID is empty")]
    EmptyFindingId,
    #[error("finding ID is {0} characters long; GuardDuty IDs are at most 300")]
    FindingIdTooLong(usize),
    #[error("finding ID contains a control character")]
    FindingIdControlChar,
    #[error("severity {0} is not a number between 0 and 10")]
    BadSeverity(f64),
}

/// GuardDuty's finding ID: the dedupe key, so it must be non-empty and bounded.
///
/// The ID is not trusted to be hex: GuardDuty IDs are 32 hex characters today, but replayed and
/// exported findings carry other shapes, and a notice must still go out for them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FindingId(String);

impl FindingId {
    pub fn parse(raw: impl Into<String>) -> Result<Self, IdError> {
        let raw = raw.into();
        if raw.trim().is_empty() {
            return Err(IdError::EmptyFindingId);
        }
        if raw.len() > 300 {
            return Err(IdError::FindingIdTooLong(raw.len()));
        }
        if raw.chars().any(char::is_control) {
            return Err(IdError::FindingIdControlChar);
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FindingId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<FindingId> for String {
    fn from(value: FindingId) -> Self {
        value.0
    }
}

impl fmt::Display for FindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// GuardDuty's severity score. The score is a float (2.0, 5.0, 8.0, or any value in
/// between for newer detections); the band is what people route on.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Severity(f64);

impl Severity {
    pub fn new(score: f64) -> Result<Self, IdError> {
        if score.is_finite() && (0.0..=10.0).contains(&score) {
            Ok(Self(score))
        } else {
            Err(IdError::BadSeverity(score))
        }
    }

    pub fn score(self) -> f64 {
        self.0
    }

    /// Bands as GuardDuty documents them: Low < 4 <= Medium < 7 <= High < 9 <= Critical.
    pub fn band(self) -> SeverityBand {
        match self.0 {
            s if s >= 9.0 => SeverityBand::Critical,
            s if s >= 7.0 => SeverityBand::High,
            s if s >= 4.0 => SeverityBand::Medium,
            _ => SeverityBand::Low,
        }
    }
}

impl TryFrom<f64> for Severity {
    type Error = IdError;
    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Severity> for f64 {
    fn from(value: Severity) -> Self {
        value.0
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1}", self.0)
    }
}

/// Ordered so that "the band went up" is a plain comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SeverityBand {
    Low,
    Medium,
    High,
    Critical,
}

impl SeverityBand {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
            Self::Critical => "Critical",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "Low" => Some(Self::Low),
            "Medium" => Some(Self::Medium),
            "High" => Some(Self::High),
            "Critical" => Some(Self::Critical),
            _ => None,
        }
    }
}

impl fmt::Display for SeverityBand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_bands_follow_the_documented_boundaries() {
        let band = |s: f64| Severity::new(s).unwrap().band();
        assert_eq!(band(0.0), SeverityBand::Low);
        assert_eq!(band(3.9), SeverityBand::Low);
        assert_eq!(band(4.0), SeverityBand::Medium);
        assert_eq!(band(6.9), SeverityBand::Medium);
        assert_eq!(band(7.0), SeverityBand::High);
        assert_eq!(band(8.9), SeverityBand::High);
        assert_eq!(band(9.0), SeverityBand::Critical);
        assert_eq!(band(10.0), SeverityBand::Critical);
        assert!(SeverityBand::Low < SeverityBand::Critical);
    }

    #[test]
    fn severity_outside_the_scale_is_rejected() {
        assert!(Severity::new(-1.0).is_err());
        assert!(Severity::new(10.5).is_err());
        assert!(Severity::new(f64::NAN).is_err());
    }

    #[test]
    fn finding_ids_must_be_present_and_printable() {
        assert!(FindingId::parse("b4b01b60fc24a199139f8f5f490edd81").is_ok());
        assert_eq!(FindingId::parse("  "), Err(IdError::EmptyFindingId));
        assert_eq!(FindingId::parse("a\nb"), Err(IdError::FindingIdControlChar));
        assert!(matches!(
            FindingId::parse("x".repeat(301)),
            Err(IdError::FindingIdTooLong(301))
        ));
    }
}
