//! Who made a call, as a record's `userIdentity` says it: its own module so that the record
//! (which names its principal's type) and the principal keys (which read the identity) do not
//! import each other.

use crate::lenient;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Who made the call.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    #[serde(default, rename = "type", deserialize_with = "lenient::kind")]
    pub identity_type: Option<PrincipalType>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub principal_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub arn: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub account_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub access_key_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub user_name: Option<String>,
    /// The AWS service that made the call on the principal's behalf.
    #[serde(default, deserialize_with = "lenient::text")]
    pub invoked_by: Option<String>,
    /// SAML or web identity provider, for federated principals.
    #[serde(default, deserialize_with = "lenient::text")]
    pub identity_provider: Option<String>,
    #[serde(default, deserialize_with = "lenient::object")]
    pub session_context: Option<SessionContext>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    #[serde(default, deserialize_with = "lenient::object")]
    pub session_issuer: Option<SessionIssuer>,
    #[serde(default, deserialize_with = "lenient::object")]
    pub attributes: Option<SessionAttributes>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub source_identity: Option<String>,
}

/// The role (or IAM user, for federation tokens) whose temporary credentials made the call.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer {
    #[serde(default, rename = "type", deserialize_with = "lenient::text")]
    pub issuer_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub principal_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub arn: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub account_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub user_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAttributes {
    #[serde(default, deserialize_with = "lenient::flag")]
    pub mfa_authenticated: Option<bool>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub creation_date: Option<String>,
}

/// The kind of identity that made a call (`userIdentity.type`), inferred from the ARN when an
/// export dropped the type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(from = "String", into = "String")]
pub enum PrincipalType {
    Root,
    IamUser,
    AssumedRole,
    AwsService,
    FederatedUser,
    AwsAccount,
    /// Absent, or the literal `Unknown` CloudTrail uses for some sign-in and Identity Center
    /// events.
    Unknown,
    /// `IdentityCenterUser`, `SAMLUser`, `WebIdentityUser`, and whatever comes next.
    Other(String),
}

impl From<String> for PrincipalType {
    fn from(raw: String) -> Self {
        match raw.as_str() {
            "Root" => Self::Root,
            "IAMUser" => Self::IamUser,
            "AssumedRole" => Self::AssumedRole,
            "AWSService" => Self::AwsService,
            "FederatedUser" => Self::FederatedUser,
            "AWSAccount" => Self::AwsAccount,
            "Unknown" | "" => Self::Unknown,
            _ => Self::Other(raw),
        }
    }
}

impl From<PrincipalType> for String {
    fn from(value: PrincipalType) -> Self {
        value.as_str().to_owned()
    }
}

impl PrincipalType {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Root => "Root",
            Self::IamUser => "IAMUser",
            Self::AssumedRole => "AssumedRole",
            Self::AwsService => "AWSService",
            Self::FederatedUser => "FederatedUser",
            Self::AwsAccount => "AWSAccount",
            Self::Unknown => "Unknown",
            Self::Other(raw) => raw,
        }
    }

    /// The type a record's identity declares, or the one its ARN implies.
    pub fn of(identity: Option<&UserIdentity>) -> Self {
        let Some(identity) = identity else {
            return Self::Unknown;
        };
        match &identity.identity_type {
            Some(t) if *t != Self::Unknown => t.clone(),
            _ => identity
                .arn
                .as_deref()
                .map_or(Self::Unknown, Self::from_arn),
        }
    }

    fn from_arn(arn: &str) -> Self {
        let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
        if resource == "root" {
            Self::Root
        } else if resource.starts_with("user/") {
            Self::IamUser
        } else if resource.starts_with("assumed-role/") {
            Self::AssumedRole
        } else if resource.starts_with("federated-user/") {
            Self::FederatedUser
        } else {
            Self::Unknown
        }
    }
}

impl fmt::Display for PrincipalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
