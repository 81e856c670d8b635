//! Which stored context concerns a finding: the partition keys to query.

use super::sources::SourceKeys;
use crate::activity::normalize_source;
use crate::finding::FindingEvent;
use std::collections::BTreeSet;

/// Partition keys of the context items about a finding's entities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subjects {
    /// `CT#...` keys: the principal by ARN (as far as the finding lets us build it), its access
    /// key, and the remote IPs as CloudTrail callers.
    pub principals: BTreeSet<String>,
    /// `FLOW#...` keys: the instance's network interfaces and private IPs.
    pub interfaces: BTreeSet<String>,
    /// Every other log source's keys (Resolver, EKS audit...).
    pub sources: SourceKeys,
    /// The finding's remote IPs, to pick their rows out of the flows.
    pub remote_ips: BTreeSet<String>,
}

impl Subjects {
    pub fn is_empty(&self) -> bool {
        self.principals.is_empty() && self.interfaces.is_empty() && self.sources.count() == 0
    }
}

/// The subjects of a finding. A finding names an IAM principal by user name and type, not ARN;
/// the ARN is rebuilt for IAM users, roles (sessions are stored under their role too) and root.
pub fn subjects(event: &FindingEvent) -> Subjects {
    let mut out = Subjects::default();
    let f = &event.finding;
    let partition = f.partition.as_deref().unwrap_or("aws");
    if let Some(resource) = &f.resource {
        if let Some(key) = &resource.access_key_details {
            if let Some(id) = key.access_key_id.as_deref().filter(|k| k.starts_with("A")) {
                out.principals.insert(format!("CT#accessKey#{id}"));
            }
            if let (Some(account), Some(name)) = (event.account(), key.user_name.as_deref()) {
                let arn = match key.user_type.as_deref() {
                    Some("Root") => Some(format!("arn:{partition}:iam::{account}:root")),
                    Some("IAMUser") => Some(format!("arn:{partition}:iam::{account}:user/{name}")),
                    Some("AssumedRole") | Some("Role") => {
                        Some(format!("arn:{partition}:iam::{account}:role/{name}"))
                    }
                    _ => None,
                };
                if let Some(arn) = arn {
                    out.principals.insert(format!("CT#arn#{arn}"));
                }
            }
        }
        if let Some(instance) = &resource.instance_details {
            for eni in &instance.network_interfaces {
                if let Some(id) = &eni.network_interface_id {
                    out.interfaces.insert(format!("FLOW#{id}"));
                }
                if let Some(ip) = &eni.private_ip_address {
                    out.interfaces.insert(format!("FLOW#{ip}"));
                }
            }
        }
    }
    out.sources = SourceKeys::of(event);
    // Spelled as the ingest functions spell addresses, or lookups and baselines would miss.
    for ip in f
        .remote_ip_details()
        .into_iter()
        .filter_map(|r| r.ip().map(|ip| normalize_source(ip).into_owned()))
    {
        out.principals.insert(format!("CT#ip#{ip}"));
        out.remote_ips.insert(ip);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::parse_event;
    use serde_json::json;

    #[test]
    fn principals_interfaces_and_remote_ips_are_named() {
        let event = parse_event(json!({"id": "a", "type": "X", "severity": 5,
            "accountId": "123456789012",
            "resource": {"accessKeyDetails": {"accessKeyId": "ASIAEXAMPLE", "userName": "web",
                    "userType": "AssumedRole"},
                "instanceDetails": {"instanceId": "i-0abc234", "networkInterfaces": [{"networkInterfaceId": "eni-1",
                    "privateIpAddress": "10.0.0.5"}]}},
            "service": {"action": {"awsApiCallAction": {"remoteIpDetails": {"ipAddressV4": "198.51.100.9"}}}}}))
        .unwrap();
        let s = subjects(&event);
        assert!(s.principals.contains("CT#accessKey#ASIAEXAMPLE"));
        assert!(
            s.principals
                .contains("CT#arn#arn:aws:iam::123456789012:role/web")
        );
        assert!(s.principals.contains("CT#ip#198.51.100.9"));
        assert!(s.interfaces.contains("FLOW#eni-1") && s.interfaces.contains("FLOW#10.0.0.5"));
        assert!(s.remote_ips.contains("198.51.100.9"));
        assert_eq!(
            s.sources.dns.iter().map(String::as_str).collect::<Vec<_>>(),
            ["DNS#10.0.0.5", "DNS#i-0abc234"]
        );
    }
}
