//! What a principal's baseline records about it: the kinds of observation, and how an API is
//! spelled in them. Written by the CloudTrail ingest, read by enrichment: one vocabulary for both.

use serde::{Deserialize, Serialize};

/// What is observed about a principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ObservationKind {
    /// Canonical IP address, or the AWS service name when a service called on the principal's
    /// behalf.
    SourceIp,
    /// `a.b.c.0/24` or `x:y:z::/48`.
    Network,
    UserAgent,
    Region,
    /// `service:ApiName`, e.g. `iam:CreateUser` (the IAM action spelling).
    Api,
    /// For a role: the principal (primary key, see [`super::EntityKey`]) that obtained its
    /// credentials, e.g. `service:ec2.amazonaws.com` for an instance profile.
    AssumedBy,
}

impl ObservationKind {
    pub const ALL: [ObservationKind; 6] = [
        Self::SourceIp,
        Self::Network,
        Self::UserAgent,
        Self::Region,
        Self::Api,
        Self::AssumedBy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SourceIp => "ip",
            Self::Network => "network",
            Self::UserAgent => "userAgent",
            Self::Region => "region",
            Self::Api => "api",
            Self::AssumedBy => "assumedBy",
        }
    }

    /// The kind [`Self::as_str`] spells `text`: how stored baseline rows are read back.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// The spelling of an API in baselines: `iam:CreateUser` for `iam.amazonaws.com` /
/// `CreateUser`; the name alone when the record has no source.
pub fn api_name(event_source: Option<&str>, event_name: &str) -> String {
    match event_source {
        Some(source) => {
            let service = source.strip_suffix(".amazonaws.com").unwrap_or(source);
            format!("{service}:{event_name}")
        }
        None => event_name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apis_are_spelled_as_iam_actions() {
        assert_eq!(
            api_name(Some("iam.amazonaws.com"), "CreateUser"),
            "iam:CreateUser"
        );
        assert_eq!(api_name(None, "CreateUser"), "CreateUser");
    }
}
