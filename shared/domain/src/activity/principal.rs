//! Who a record is about, and under which keys its activity is filed.
//!
//! A GuardDuty finding names a principal in several ways (an access key, a user name, a role
//! session, a remote IP), so the same call is filed under every key triage may look it up by.
//!
//! The keying rule is on [`EntityKey`].

use super::identity::{PrincipalType, UserIdentity};
use super::net;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// What a key identifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EntityKind {
    /// An IAM ARN: user, root, role, assumed-role session, federated user.
    Arn,
    AccessKey,
    /// An AWS service calling on its own behalf (`AWSService` identities).
    Service,
    /// Another AWS account (`AWSAccount` identities).
    Account,
    SourceIp,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Arn => "arn",
            Self::AccessKey => "accessKey",
            Self::Service => "service",
            Self::Account => "account",
            Self::SourceIp => "ip",
        }
    }

    fn tag(self) -> char {
        match self {
            Self::Arn => 'a',
            Self::AccessKey => 'k',
            Self::Service => 's',
            Self::Account => 'c',
            Self::SourceIp => 'i',
        }
    }
}

/// A principal or a source IP, as a lookup key. Displayed as the ARN itself for ARNs and as
/// `kind:id` otherwise (`accessKey:ASIA...`, `ip:203.0.113.7`).
///
/// Keying rule: a record's activity is filed under each of these keys:
///
/// - `userIdentity.arn` when present: the IAM user, root, federated user or, for an assumed role,
///   the *session* (`arn:aws:sts::111122223333:assumed-role/Role/session`);
/// - `sessionContext.sessionIssuer.arn` when present and different: the role behind an
///   assumed-role session (or the IAM user behind a federation token). Session names change
///   with every session (instance IDs, e-mail addresses, random), so the role is where history
///   accumulates;
/// - without an ARN: `invokedBy` for an `AWSService` caller, `accountId` for an `AWSAccount`
///   (cross-account) caller;
/// - separately, `userIdentity.accessKeyId`, because that is what credential findings carry;
/// - and, as its own kind of subject, the source IP when `sourceIPAddress` is an IP address.
///
/// Where one name for the caller is needed (the caller of an IP's aggregate, who assumed a
/// role), it is the *primary* key: the issuer role, else the ARN, else the service or account,
/// else the access key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityKey {
    pub kind: EntityKind,
    pub id: String,
}

impl EntityKey {
    pub fn new(kind: EntityKind, id: impl Into<String>) -> Self {
        Self {
            kind,
            id: id.into(),
        }
    }

    pub fn arn(arn: impl Into<String>) -> Self {
        Self::new(EntityKind::Arn, arn)
    }

    pub fn access_key(id: impl Into<String>) -> Self {
        Self::new(EntityKind::AccessKey, id)
    }

    /// The key of a source IP, in the canonical form the aggregates use.
    pub fn source_ip(raw: &str) -> Self {
        Self::new(EntityKind::SourceIp, net::normalize_source(raw))
    }

    pub fn is_principal(&self) -> bool {
        self.kind != EntityKind::SourceIp
    }
}

impl fmt::Display for EntityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            EntityKind::Arn => f.write_str(&self.id),
            kind => write!(f, "{}:{}", kind.as_str(), self.id),
        }
    }
}

/// A key borrowed from a record, so filing a record allocates nothing unless the key is new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRef<'a> {
    pub kind: EntityKind,
    pub id: Cow<'a, str>,
}

impl KeyRef<'_> {
    /// An injective text form, used as the interning key.
    pub fn encode_into(&self, buf: &mut String) {
        buf.clear();
        buf.push(self.kind.tag());
        buf.push_str(&self.id);
    }

    pub fn to_owned_key(&self) -> EntityKey {
        EntityKey::new(self.kind, self.id.as_ref())
    }
}

/// The principal keys of a record's caller, in the order of the keying rule (module docs):
/// at most three (ARN, issuer ARN or service/account, access key).
pub fn principal_keys(identity: Option<&UserIdentity>) -> Vec<KeyRef<'_>> {
    let mut keys = Vec::with_capacity(3);
    let Some(identity) = identity else {
        return keys;
    };
    let arn = identity.arn.as_deref().map(without_iam_path);
    if let Some(arn) = &arn {
        keys.push(KeyRef {
            kind: EntityKind::Arn,
            id: arn.clone(),
        });
    }
    if let Some(issuer) = issuer_arn(identity)
        && Some(&issuer) != arn.as_ref()
    {
        keys.push(KeyRef {
            kind: EntityKind::Arn,
            id: issuer,
        });
    }
    if keys.is_empty() {
        match PrincipalType::of(Some(identity)) {
            PrincipalType::AwsService => {
                if let Some(service) = identity.invoked_by.as_deref() {
                    keys.push(KeyRef {
                        kind: EntityKind::Service,
                        id: Cow::Borrowed(service),
                    });
                }
            }
            PrincipalType::AwsAccount => {
                if let Some(account) = identity.account_id.as_deref() {
                    keys.push(KeyRef {
                        kind: EntityKind::Account,
                        id: Cow::Borrowed(account),
                    });
                }
            }
            _ => {}
        }
    }
    if let Some(key) = identity.access_key_id.as_deref() {
        keys.push(KeyRef {
            kind: EntityKind::AccessKey,
            id: Cow::Borrowed(key),
        });
    }
    keys
}

/// The one key that best names the caller across sessions: the issuer role, else the ARN, else
/// the service or account, else the access key. Used where a single name is needed (who
/// called from an IP, who assumed a role).
pub fn primary_key(identity: Option<&UserIdentity>) -> Option<KeyRef<'_>> {
    let identity = identity?;
    if let Some(issuer) = issuer_arn(identity) {
        return Some(KeyRef {
            kind: EntityKind::Arn,
            id: issuer,
        });
    }
    principal_keys(Some(identity)).into_iter().next()
}

/// `sessionContext.sessionIssuer.arn`, without its IAM path (see [`without_iam_path`]).
pub fn issuer_arn(identity: &UserIdentity) -> Option<Cow<'_, str>> {
    identity
        .session_context
        .as_ref()?
        .session_issuer
        .as_ref()?
        .arn
        .as_deref()
        .map(without_iam_path)
}

/// An IAM role or user ARN without its path: `arn:aws:iam::1:role/aws-reserved/sso.amazonaws.com/R`
/// becomes `arn:aws:iam::1:role/R`. A finding names a principal by user name only, so triage
/// rebuilds its ARN without a path; role and user names are unique in an account whatever
/// their path, so dropping it loses nothing (and Identity Center roles always have one).
pub fn without_iam_path(arn: &str) -> Cow<'_, str> {
    for kind in [":role/", ":user/"] {
        if let Some(at) = arn.find(kind)
            && arn.starts_with("arn:")
            && arn[..at].contains(":iam:")
        {
            let rest = &arn[at + kind.len()..];
            if let Some(name) = rest.rsplit('/').next().filter(|_| rest.contains('/')) {
                return Cow::Owned(format!("{}{kind}{name}", &arn[..at]));
            }
        }
    }
    Cow::Borrowed(arn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn identity(value: serde_json::Value) -> UserIdentity {
        serde_json::from_value(value).unwrap()
    }

    fn keys(identity: &UserIdentity) -> Vec<String> {
        principal_keys(Some(identity))
            .iter()
            .map(|k| k.to_owned_key().to_string())
            .collect()
    }

    #[test]
    fn iam_paths_are_dropped_so_a_finding_s_user_name_finds_the_principal() {
        assert_eq!(
            without_iam_path(
                "arn:aws:iam::1:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_admin_59"
            ),
            "arn:aws:iam::1:role/AWSReservedSSO_admin_59"
        );
        assert_eq!(
            without_iam_path("arn:aws:iam::1:user/ops/alice"),
            "arn:aws:iam::1:user/alice"
        );
        assert_eq!(
            without_iam_path("arn:aws:iam::1:role/R"),
            "arn:aws:iam::1:role/R"
        );
        assert_eq!(
            without_iam_path("arn:aws:sts::1:assumed-role/R/i-1"),
            "arn:aws:sts::1:assumed-role/R/i-1"
        );
    }

    #[test]
    fn assumed_role_is_filed_under_session_role_and_key() {
        let id = identity(json!({"type": "AssumedRole",
            "arn": "arn:aws:sts::1:assumed-role/R/i-1", "accessKeyId": "ASIA1",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::1:role/R"}}}));
        assert_eq!(
            keys(&id),
            [
                "arn:aws:sts::1:assumed-role/R/i-1",
                "arn:aws:iam::1:role/R",
                "accessKey:ASIA1"
            ]
        );
        assert_eq!(primary_key(Some(&id)).unwrap().id, "arn:aws:iam::1:role/R");
    }

    #[test]
    fn identities_without_arn_use_service_or_account() {
        let service = identity(json!({"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}));
        assert_eq!(keys(&service), ["service:ec2.amazonaws.com"]);
        let account = identity(json!({"type": "AWSAccount", "accountId": "111111111111",
            "principalId": "AROAEXAMPLE:session-name"}));
        assert_eq!(keys(&account), ["account:111111111111"]);
        let bare_root = identity(json!({"type": "Root", "userName": "root"}));
        assert!(keys(&bare_root).is_empty());
    }

    #[test]
    fn type_is_inferred_from_the_arn_when_missing() {
        let id = identity(json!({"arn": "arn:aws:iam::1:root"}));
        assert_eq!(PrincipalType::of(Some(&id)), PrincipalType::Root);
        let id = identity(json!({"type": "IdentityCenterUser"}));
        assert_eq!(PrincipalType::of(Some(&id)).as_str(), "IdentityCenterUser");
        assert_eq!(PrincipalType::of(None), PrincipalType::Unknown);
    }
}
