//! What GuardDuty's anomaly model says about the caller's network, from the finding itself.
//!
//! `*/AnomalousBehavior` findings carry GuardDuty's own profiles of the account and of the
//! principal (months of history we may not have): `service.detection.anomaly` (`unusual` and
//! `profiles`, per `ACCOUNT` and `USER_IDENTITY`) and, in older findings, the same facts in the
//! JSON string `service.additionalInfo.value` (`unusualBehavior.unusualASNsForAccount`,
//! `profiledBehavior.frequentProfiledASNsAccountProfiling`). Both shapes are read; either may be
//! absent, partial or odd, which reads as "not said".

use super::model::Finding;
use serde_json::Value;

/// The caller's network (ASN organisation) as GuardDuty's account-wide profile sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountNetwork {
    /// Never seen in the whole account.
    Unseen(String),
    /// Among the account's frequent networks.
    Frequent(String),
}

impl Finding {
    pub fn account_network(&self) -> Option<AccountNetwork> {
        let service = self.service.as_ref()?;
        let legacy = service
            .additional_info
            .as_ref()
            .and_then(|i| i.get("value"))
            .and_then(Value::as_str)
            .and_then(|raw| serde_json::from_str::<Value>(raw).ok());
        let detection = service.detection.as_ref();
        let unseen =
            texts(detection.and_then(|d| {
                d.pointer("/anomaly/unusual/behavior/ACCOUNT/asnOrg/observations/text")
            }))
            .into_iter()
            .chain(comma_list(legacy.as_ref().and_then(|v| {
                v.pointer("/unusualBehavior/unusualASNsForAccount")
            })))
            .next();
        if let Some(asn) = unseen {
            return Some(AccountNetwork::Unseen(asn));
        }
        let caller = self
            .remote_ip_details()
            .into_iter()
            .filter_map(|r| r.organization.as_ref()?.asn_org.clone())
            .next()?;
        let frequent: Vec<String> = detection
            .and_then(|d| d.pointer("/anomaly/profiles/ACCOUNT/asnOrg"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|p| p.get("profileSubtype").and_then(Value::as_str) == Some("FREQUENT"))
            .flat_map(|p| texts(p.pointer("/observations/text")))
            .chain(comma_list(legacy.as_ref().and_then(|v| {
                v.pointer("/profiledBehavior/frequentProfiledASNsAccountProfiling")
            })))
            .collect();
        frequent
            .iter()
            .any(|f| f.eq_ignore_ascii_case(&caller))
            .then_some(AccountNetwork::Frequent(caller))
    }
}

fn texts(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().to_owned())
        .collect()
}

fn comma_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_str)
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finding(service: Value) -> Finding {
        serde_json::from_value(json!({"id": "a", "type": "X", "severity": 5, "service": service}))
            .unwrap()
    }

    fn caller(asn_org: &str) -> Value {
        json!({"awsApiCallAction": {"remoteIpDetails": {"ipAddressV4": "198.51.100.7",
            "organization": {"asnOrg": asn_org}}}})
    }

    #[test]
    fn the_sample_anomaly_finding_names_a_network_unseen_in_the_account() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../events/iam-anomalous-behavior-credential-access.json");
        let event = crate::finding::parse_event_bytes(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(
            event.finding.account_network(),
            Some(AccountNetwork::Unseen("AS-CHOOPA".into()))
        );
    }

    #[test]
    fn both_shapes_are_read_and_a_frequent_network_needs_the_caller_in_it() {
        let legacy = finding(
            json!({"action": caller("COMCAST-7922"), "additionalInfo": {"value":
            "{\"profiledBehavior\":{\"frequentProfiledASNsAccountProfiling\":\"AMAZON-02, COMCAST-7922\"}}"}}),
        );
        assert_eq!(
            legacy.account_network(),
            Some(AccountNetwork::Frequent("COMCAST-7922".into()))
        );
        let detection = finding(
            json!({"action": caller("AMAZON-02"), "detection": {"anomaly":
            {"profiles": {"ACCOUNT": {"asnOrg": [{"profileSubtype": "FREQUENT",
                "observations": {"text": ["AMAZON-02"]}}]}}}}}),
        );
        assert_eq!(
            detection.account_network(),
            Some(AccountNetwork::Frequent("AMAZON-02".into()))
        );
        let elsewhere = finding(
            json!({"action": caller("AS-CHOOPA"), "detection": {"anomaly":
            {"profiles": {"ACCOUNT": {"asnOrg": [{"profileSubtype": "FREQUENT",
                "observations": {"text": ["AMAZON-02"]}}]}}}}}),
        );
        assert_eq!(elsewhere.account_network(), None);
        assert_eq!(finding(json!({"detection": "odd"})).account_network(), None);
    }
}
