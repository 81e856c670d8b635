//! Turning an incoming event into a [`Finding`]: the one place that decides whether an input is
//! something we triage, and says exactly why not when it is not.

use super::model::Finding;
use crate::text::json_kind;
use serde_json::Value;

pub const GUARDDUTY_SOURCE: &str = "aws.guardduty";
pub const GUARDDUTY_DETAIL_TYPE: &str = "GuardDuty Finding";

/// Why an input is not a GuardDuty finding we can triage. Every variant is permanent: retrying
/// the same bytes cannot succeed, so the event belongs in the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("event is not valid JSON: {0}")]
    NotJson(String),
    #[error("event is JSON {0}, expected an object")]
    NotAnObject(&'static str),
    #[error("event source is {0:?}, expected \"aws.guardduty\"")]
    WrongSource(String),
    #[error("event detail-type is {0:?}, expected \"GuardDuty Finding\"")]
    WrongDetailType(String),
    #[error("event detail is JSON {0}, expected the finding object")]
    DetailNotObject(&'static str),
    #[error("finding has no {0:?} field")]
    MissingField(&'static str),
    #[error("finding field is invalid: {0}")]
    InvalidField(String),
}

/// A finding and what the EventBridge envelope said about its delivery.
#[derive(Debug, Clone)]
pub struct FindingEvent {
    /// EventBridge's event ID: the same ID twice is a transport duplicate.
    pub event_id: Option<String>,
    /// Account and region of the envelope, used when the finding itself lacks them.
    pub envelope_account: Option<String>,
    pub envelope_region: Option<String>,
    pub finding: Finding,
}

impl FindingEvent {
    /// The finding's account, or the envelope's when the finding lacks one.
    pub fn account(&self) -> Option<&str> {
        self.finding
            .account_id
            .as_deref()
            .or(self.envelope_account.as_deref())
    }

    /// The finding's region, or the envelope's when the finding lacks one.
    pub fn region(&self) -> Option<&str> {
        self.finding
            .region
            .as_deref()
            .or(self.envelope_region.as_deref())
    }
}

/// Parse raw bytes: an EventBridge `GuardDuty Finding` envelope or a bare finding.
pub fn parse_event_bytes(bytes: &[u8]) -> Result<FindingEvent, InputError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| InputError::NotJson(e.to_string()))?;
    parse_event(value)
}

/// Parse an already decoded event (the Lambda runtime hands us a `Value`).
pub fn parse_event(value: Value) -> Result<FindingEvent, InputError> {
    let Value::Object(mut object) = value else {
        return Err(InputError::NotAnObject(json_kind(&value)));
    };
    let is_envelope = object.contains_key("detail-type") || object.contains_key("source");
    if !is_envelope {
        return Ok(FindingEvent {
            event_id: None,
            envelope_account: None,
            envelope_region: None,
            finding: parse_finding(Value::Object(object))?,
        });
    }
    let text = |object: &serde_json::Map<String, Value>, key: &str| {
        object.get(key).and_then(Value::as_str).map(str::to_owned)
    };
    let source = text(&object, "source").unwrap_or_default();
    if source != GUARDDUTY_SOURCE {
        return Err(InputError::WrongSource(source));
    }
    let detail_type = text(&object, "detail-type").unwrap_or_default();
    if detail_type != GUARDDUTY_DETAIL_TYPE {
        return Err(InputError::WrongDetailType(detail_type));
    }
    let detail = object
        .remove("detail")
        .ok_or(InputError::MissingField("detail"))?;
    if !detail.is_object() {
        return Err(InputError::DetailNotObject(json_kind(&detail)));
    }
    Ok(FindingEvent {
        event_id: text(&object, "id"),
        envelope_account: text(&object, "account"),
        envelope_region: text(&object, "region"),
        finding: parse_finding(detail)?,
    })
}

fn parse_finding(detail: Value) -> Result<Finding, InputError> {
    for field in ["id", "type", "severity"] {
        if detail.get(field).is_none_or(Value::is_null) {
            return Err(InputError::MissingField(field));
        }
    }
    serde_json::from_value(detail).map_err(|e| InputError::InvalidField(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finding() -> Value {
        json!({"id": "abc", "type": "Recon:EC2/PortProbeUnprotectedPort", "severity": 2})
    }

    #[test]
    fn bare_finding_and_envelope_both_parse() {
        let bare = parse_event(finding()).unwrap();
        assert_eq!(bare.finding.id.as_str(), "abc");
        assert!(bare.event_id.is_none());

        let envelope = json!({"id": "evt-1", "source": "aws.guardduty",
            "detail-type": "GuardDuty Finding", "account": "123456789012", "detail": finding()});
        let parsed = parse_event(envelope).unwrap();
        assert_eq!(parsed.event_id.as_deref(), Some("evt-1"));
        assert_eq!(parsed.envelope_account.as_deref(), Some("123456789012"));
    }

    #[test]
    fn each_bad_input_says_why() {
        assert!(matches!(
            parse_event_bytes(b"{\"id\":"),
            Err(InputError::NotJson(_))
        ));
        assert_eq!(
            parse_event(json!([])).unwrap_err(),
            InputError::NotAnObject("array")
        );
        assert_eq!(
            parse_event(json!({"source": "aws.ec2", "detail-type": "x", "detail": {}}))
                .unwrap_err(),
            InputError::WrongSource("aws.ec2".into())
        );
        assert_eq!(
            parse_event(json!({"source": "aws.guardduty",
                "detail-type": "AWS API Call via CloudTrail", "detail": {}}))
            .unwrap_err(),
            InputError::WrongDetailType("AWS API Call via CloudTrail".into())
        );
        assert_eq!(
            parse_event(json!({"source": "aws.guardduty",
                "detail-type": "GuardDuty Finding", "detail": "x"}))
            .unwrap_err(),
            InputError::DetailNotObject("string")
        );
        assert_eq!(
            parse_event(json!({"type": "X", "severity": 2})).unwrap_err(),
            InputError::MissingField("id")
        );
        assert!(matches!(
            parse_event(json!({"id": "a", "type": "X", "severity": 42})).unwrap_err(),
            InputError::InvalidField(_)
        ));
    }

    #[test]
    fn odd_shapes_of_optional_parts_are_tolerated() {
        let odd = json!({"id": "a", "type": "X", "severity": 5.0,
            "resource": {"resourceType": "FutureResource", "instanceDetails": "oops"},
            "service": {"count": "7", "evidence": null, "action": {"actionType": "NEW_THING",
                "networkConnectionAction": {"remoteIpDetails": {"organization": {"asn": -1}}}}}});
        let f = parse_event(odd).unwrap().finding;
        let service = f.service.unwrap();
        assert_eq!(service.count, Some(7));
        let action = service.action.unwrap();
        assert_eq!(action.action_type.unwrap().as_str(), "NEW_THING");
        let org = action
            .network_connection_action
            .unwrap()
            .remote_ip_details
            .unwrap()
            .organization
            .unwrap();
        assert_eq!(org.asn.as_deref(), Some("-1"));
        let resource = f.resource.unwrap();
        assert_eq!(resource.resource_type.unwrap().as_str(), "FutureResource");
        assert!(resource.instance_details.is_none());
    }
}
