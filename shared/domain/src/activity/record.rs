//! The CloudTrail record, as documented in the record-contents reference, read tolerantly.
//!
//! Real records lack `userAgent`, `sourceIPAddress` or `errorCode`, are service events with no
//! `userIdentity`, or Insights events whose API name sits in `insightDetails`; exports rename or
//! restringify fields. None of that may fail a record, so every field is optional and lenient
//! (see [`crate::lenient`]). Only two things are required before a record is used, and their absence
//! is a counted skip with a reason ([`SkipReason`]): a time, because activity is bucketed by it,
//! and an API name, because every aggregate is keyed by it.
//!
//! We keep our own model rather than `aws_lambda_events`': that one is strict about the fields we
//! must tolerate, and we need the fields triage reads (MFA, session issuer, Insights details).

use super::identity::{PrincipalType, UserIdentity};
use crate::lenient;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// One CloudTrail record, every field optional.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudTrailRecord {
    #[serde(default, deserialize_with = "lenient::text")]
    pub event_version: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub event_time: Option<String>,
    /// Logstash / Elastic exports (the OTRF dataset) move `eventTime` here. Read only when
    /// `eventTime` is absent; kept as its own field so a record carrying both still parses.
    #[serde(default, rename = "@timestamp", deserialize_with = "lenient::text")]
    pub export_timestamp: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub event_source: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub event_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub aws_region: Option<String>,
    /// An IPv4 or IPv6 address, or the name of the AWS service that called on the principal's
    /// behalf (`ec2.amazonaws.com`, `AWS Internal`).
    #[serde(
        default,
        rename = "sourceIPAddress",
        deserialize_with = "lenient::text"
    )]
    pub source_ip_address: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub user_agent: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub error_code: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub error_message: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub read_only: Option<bool>,
    #[serde(default, deserialize_with = "lenient::kind")]
    pub event_type: Option<EventType>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub management_event: Option<bool>,
    /// `Management`, `Data`, `Insight` or `NetworkActivity`.
    #[serde(default, deserialize_with = "lenient::text")]
    pub event_category: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub recipient_account_id: Option<String>,
    #[serde(default, rename = "eventID", deserialize_with = "lenient::text")]
    pub event_id: Option<String>,
    #[serde(default, rename = "requestID", deserialize_with = "lenient::text")]
    pub request_id: Option<String>,
    #[serde(default, rename = "sharedEventID", deserialize_with = "lenient::text")]
    pub shared_event_id: Option<String>,
    #[serde(default, rename = "vpcEndpointId", deserialize_with = "lenient::text")]
    pub vpc_endpoint_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub session_credential_from_console: Option<bool>,
    #[serde(default, deserialize_with = "lenient::object")]
    pub user_identity: Option<UserIdentity>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub resources: Vec<ResourceRef>,
    /// Kept as raw JSON: its shape is per API.
    #[serde(default)]
    pub request_parameters: Option<Value>,
    /// Kept as raw JSON: its shape is per API (`{"ConsoleLogin": "Failure"}` for sign-ins).
    #[serde(default)]
    pub response_elements: Option<Value>,
    /// Kept as raw JSON; carries `MFAUsed` for console sign-ins.
    #[serde(default)]
    pub additional_event_data: Option<Value>,
    /// Service events only; sometimes a JSON object, sometimes that object as a string.
    #[serde(default)]
    pub service_event_details: Option<Value>,
    #[serde(default, deserialize_with = "lenient::object")]
    pub insight_details: Option<InsightDetails>,
}

/// A resource the call touched, as CloudTrail lists it (management events of some services and
/// all data events).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRef {
    #[serde(default, rename = "ARN", deserialize_with = "lenient::text")]
    pub arn: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub account_id: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "lenient::text")]
    pub resource_type: Option<String>,
}

/// What an Insights event is about: the API whose call or error rate was unusual.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InsightDetails {
    /// `Start` or `End`.
    #[serde(default, deserialize_with = "lenient::text")]
    pub state: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub event_source: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub event_name: Option<String>,
    /// `ApiCallRateInsight` or `ApiErrorRateInsight`.
    #[serde(default, deserialize_with = "lenient::text")]
    pub insight_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub error_code: Option<String>,
}

/// The kind of event, open-ended: CloudTrail adds kinds (`AwsVpceEvent` came in 2023).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(from = "String", into = "String")]
pub enum EventType {
    AwsApiCall,
    AwsServiceEvent,
    AwsConsoleSignIn,
    AwsConsoleAction,
    AwsCloudTrailInsight,
    AwsVpceEvent,
    Other(String),
}

impl From<String> for EventType {
    fn from(raw: String) -> Self {
        match raw.as_str() {
            "AwsApiCall" => Self::AwsApiCall,
            "AwsServiceEvent" => Self::AwsServiceEvent,
            "AwsConsoleSignIn" => Self::AwsConsoleSignIn,
            "AwsConsoleAction" => Self::AwsConsoleAction,
            "AwsCloudTrailInsight" => Self::AwsCloudTrailInsight,
            "AwsVpceEvent" => Self::AwsVpceEvent,
            _ => Self::Other(raw),
        }
    }
}

impl From<EventType> for String {
    fn from(value: EventType) -> Self {
        value.as_str().to_owned()
    }
}

impl EventType {
    pub fn as_str(&self) -> &str {
        match self {
            Self::AwsApiCall => "AwsApiCall",
            Self::AwsServiceEvent => "AwsServiceEvent",
            Self::AwsConsoleSignIn => "AwsConsoleSignIn",
            Self::AwsConsoleAction => "AwsConsoleAction",
            Self::AwsCloudTrailInsight => "AwsCloudTrailInsight",
            Self::AwsVpceEvent => "AwsVpceEvent",
            Self::Other(raw) => raw,
        }
    }
}

/// Why a record was not used. Each is counted per object, so a summary can say how much of an
/// input was unusable and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// An element of the records list that is not a JSON object.
    NotAnObject,
    /// Neither `eventTime` nor an export's `@timestamp`.
    MissingEventTime,
    /// A time we cannot read (`"redacted"`, `"..."`).
    InvalidEventTime,
    /// No `eventName` (nor, for Insights events, `insightDetails.eventName`).
    MissingEventName,
}

impl SkipReason {
    pub const ALL: [SkipReason; 4] = [
        Self::NotAnObject,
        Self::MissingEventTime,
        Self::InvalidEventTime,
        Self::MissingEventName,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotAnObject => "not a JSON object",
            Self::MissingEventTime => "no eventTime",
            Self::InvalidEventTime => "unreadable eventTime",
            Self::MissingEventName => "no eventName",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A record with what every later step relies on: a time and an API name. Only
/// [`Record::new`] builds one, so the rest of the module never checks again.
#[derive(Debug, Clone)]
pub struct Record {
    time: DateTime<Utc>,
    raw: CloudTrailRecord,
}

impl Record {
    pub fn new(raw: CloudTrailRecord) -> Result<Self, SkipReason> {
        let time_text = raw
            .event_time
            .as_deref()
            .or(raw.export_timestamp.as_deref())
            .ok_or(SkipReason::MissingEventTime)?;
        let time = parse_event_time(time_text).ok_or(SkipReason::InvalidEventTime)?;
        let record = Self { time, raw };
        if record.event_name().is_empty() {
            return Err(SkipReason::MissingEventName);
        }
        Ok(record)
    }

    pub fn time(&self) -> DateTime<Utc> {
        self.time
    }

    pub fn raw(&self) -> &CloudTrailRecord {
        &self.raw
    }

    /// The API name; for an Insights event, the API the insight is about. Never empty.
    pub fn event_name(&self) -> &str {
        self.raw
            .event_name
            .as_deref()
            .or_else(|| self.raw.insight_details.as_ref()?.event_name.as_deref())
            .unwrap_or_default()
    }

    /// The service endpoint (`iam.amazonaws.com`); for an Insights event, the one it is about.
    pub fn event_source(&self) -> Option<&str> {
        self.raw
            .event_source
            .as_deref()
            .or_else(|| self.raw.insight_details.as_ref()?.event_source.as_deref())
    }

    pub fn user_identity(&self) -> Option<&UserIdentity> {
        self.raw.user_identity.as_ref()
    }

    pub fn principal_type(&self) -> PrincipalType {
        PrincipalType::of(self.user_identity())
    }

    pub fn is_insight(&self) -> bool {
        self.raw.event_type == Some(EventType::AwsCloudTrailInsight)
    }

    /// A console sign-in event (`ConsoleLogin`, `CheckMfa`, `SwitchRole`, ...). Exports that
    /// dropped `eventType` still name `ConsoleLogin`.
    pub fn is_console_sign_in(&self) -> bool {
        self.raw.event_type == Some(EventType::AwsConsoleSignIn)
            || self.event_name() == "ConsoleLogin"
            || self.is_identity_center_sign_in()
    }

    /// An IAM Identity Center user completing every challenge of a sign-in to the access portal
    /// (logged only on success, as an `AwsServiceEvent`).
    fn is_identity_center_sign_in(&self) -> bool {
        self.event_name() == "UserAuthentication"
            && self.event_source() == Some("signin.amazonaws.com")
    }

    /// A data event (S3 object reads and writes, Lambda invocations, ...): the high-volume
    /// plane, aggregated but never kept in detail for being mutating.
    pub fn is_data_event(&self) -> bool {
        self.raw.management_event == Some(false)
            || self.raw.event_category.as_deref() == Some("Data")
    }

    /// The error code; a failed console sign-in has none, only `responseElements.ConsoleLogin`
    /// `"Failure"`, which we report as the code `Failure`.
    pub fn error_code(&self) -> Option<&str> {
        if let Some(code) = self.raw.error_code.as_deref() {
            return Some(code);
        }
        let console = self.raw.response_elements.as_ref()?.get("ConsoleLogin")?;
        (console.as_str() == Some("Failure")).then_some("Failure")
    }

    /// Whether MFA was used: `additionalEventData.MFAUsed` for console sign-ins,
    /// `sessionContext.attributes.mfaAuthenticated` for calls made with session credentials.
    pub fn mfa(&self) -> Option<bool> {
        // Identity Center lists the factors it checked (`PASSWORD,TOTP`). Beyond the password,
        // anything but an external identity provider (whose own MFA it cannot see) is a second
        // factor: TOTP, WebAuthn, a smart card.
        if self.is_identity_center_sign_in()
            && let Some(types) = self
                .raw
                .additional_event_data
                .as_ref()
                .and_then(|d| d.get("CredentialType"))
                .and_then(Value::as_str)
        {
            return Some(
                types
                    .split(',')
                    .map(str::trim)
                    .any(|t| !t.is_empty() && t != "PASSWORD" && t != "EXTERNAL_IDP"),
            );
        }
        if self.is_console_sign_in()
            && let Some(used) = self
                .raw
                .additional_event_data
                .as_ref()
                .and_then(|d| d.get("MFAUsed"))
                .and_then(Value::as_str)
        {
            return match used {
                "Yes" => Some(true),
                "No" => Some(false),
                _ => None,
            };
        }
        self.user_identity()?
            .session_context
            .as_ref()?
            .attributes
            .as_ref()?
            .mfa_authenticated
    }
}

/// Read an event time: RFC 3339 as CloudTrail writes it, or the `YYYY-MM-DD HH:MM:SS[.f][Z]`
/// that SQL-based exports (Athena, Panther) produce, taken as UTC.
pub fn parse_event_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    let naive = raw.strip_suffix('Z').unwrap_or(raw);
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(naive, format).ok())
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(value: Value) -> Result<Record, SkipReason> {
        Record::new(serde_json::from_value(value).unwrap())
    }

    #[test]
    fn every_time_spelling_of_the_corpus_is_read_as_utc() {
        let expected = "2022-09-27T17:09:18Z".parse::<DateTime<Utc>>().unwrap();
        for raw in [
            "2022-09-27T17:09:18Z",
            "2022-09-27T19:09:18+02:00",
            "2022-09-27 17:09:18",
            "2022-09-27 17:09:18Z",
            "2022-09-27 17:09:18.000",
            "2022-09-27 17:09:18.000000000",
        ] {
            assert_eq!(parse_event_time(raw), Some(expected), "{raw}");
        }
        assert_eq!(parse_event_time("redacted"), None);
        assert_eq!(parse_event_time("..."), None);
    }

    #[test]
    fn a_record_needs_a_time_and_a_name() {
        let ok = record(json!({"eventTime": "2024-01-01T00:00:00Z", "eventName": "X"}));
        assert_eq!(ok.unwrap().event_name(), "X");
        let exported = record(json!({"@timestamp": "2020-09-14T00:44:23.000Z", "eventName": "X"}));
        assert!(exported.is_ok());
        assert_eq!(
            record(json!({"eventName": "X"})).unwrap_err(),
            SkipReason::MissingEventTime
        );
        assert_eq!(
            record(json!({"eventTime": "redacted", "eventName": "X"})).unwrap_err(),
            SkipReason::InvalidEventTime
        );
        assert_eq!(
            record(json!({"eventTime": "2024-01-01T00:00:00Z"})).unwrap_err(),
            SkipReason::MissingEventName
        );
    }

    #[test]
    fn console_failure_without_error_code_is_a_failure() {
        let r = record(
            json!({"eventTime": "2024-01-01T00:00:00Z", "eventName": "ConsoleLogin",
            "responseElements": {"ConsoleLogin": "Failure"},
            "additionalEventData": {"MFAUsed": "No"}}),
        )
        .unwrap();
        assert_eq!(r.error_code(), Some("Failure"));
        assert!(r.is_console_sign_in());
        assert_eq!(r.mfa(), Some(false));
    }
}
