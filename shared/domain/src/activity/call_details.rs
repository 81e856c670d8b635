//! What a notable call did, beyond its name: who it granted access to, what it launched, how it
//! changed logging. Read from `requestParameters` at ingest, because the behaviour catalogue
//! needs these facts and the raw record is not kept.
//!
//! Every extractor follows the request shape of the CloudTrail record reference and the Stratus
//! Red Team detonation records; an absent or odd shape yields nothing, never an error.

use super::limits::{self, NAME_MAX};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// At most this many grantees or layers are kept per call: a handful makes the point.
const LIST_MAX: usize = 8;
/// At most this many secret names are kept per call: enough to count a harvest.
const SECRETS_MAX: usize = 32;

/// Facts about one call that its name does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallDetails {
    /// Who gains access by this call: an account ID, a principal ARN, `*` (anyone) or a CIDR
    /// with its port range (`0.0.0.0/0:22-22`) for security-group ingress.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub granted_to: Vec<String>,
    /// `RunInstances`: the instance type and how many were asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_count: Option<u64>,
    /// The instance or image attribute read or changed (`userData`, `launchPermission`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// `PutEventSelectors` / `PutInsightSelectors` that stop a trail logging management events or
    /// one of read and write.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub logging_narrowed: bool,
    /// Lambda layers attached by `UpdateFunctionConfiguration` / `CreateFunction`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<String>,
    /// SSM `GetParameter*` asked for decrypted `SecureString` values.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub with_decryption: bool,
    /// An inline policy (`Put{User,Role,Group}Policy`) whose every statement denies: it takes
    /// access away.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub denies_only: bool,
    /// The secrets or parameters a read names (one call may name many).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    /// An identity, session or managed policy (`Put*Policy`, `CreatePolicy*`,
    /// `GetFederationToken`) with a statement allowing every action on every resource: full
    /// administrator, whatever the policy is called.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allows_everything: bool,
    /// `PutBucketLifecycle`: the fewest days after which an enabled rule expires objects
    /// (current or noncurrent versions). A lifecycle with no expiry leaves it empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_days: Option<u64>,
}

impl CallDetails {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// The details of a call to `source`'s `name` with these request parameters.
    pub fn of(source: &str, name: &str, params: Option<&Value>) -> Self {
        let mut out = Self::default();
        let Some(params) = params.filter(|p| p.is_object()) else {
            return out;
        };
        let text = |key: &str| params.get(key).and_then(Value::as_str);
        match (source, name) {
            ("ec2.amazonaws.com", "ModifySnapshotAttribute") => {
                out.grant_items(params.pointer("/createVolumePermission/add/items"));
            }
            ("ec2.amazonaws.com", "ModifyImageAttribute") => {
                out.grant_items(params.pointer("/launchPermission/add/items"));
                out.attribute = text("attribute").map(bounded);
            }
            (
                "rds.amazonaws.com",
                "ModifyDBSnapshotAttribute" | "ModifyDBClusterSnapshotAttribute",
            ) => {
                if let Some(values) = params.get("valuesToAdd").and_then(Value::as_array) {
                    for v in values.iter().filter_map(Value::as_str) {
                        out.grant(if v == "all" { "*" } else { v });
                    }
                }
            }
            ("iam.amazonaws.com", "PutUserPolicy" | "PutRolePolicy" | "PutGroupPolicy") => {
                let doc = text("policyDocument").and_then(parse_policy);
                out.denies_only = doc.as_ref().is_some_and(denies_only);
                out.allows_everything = doc.as_ref().is_some_and(allows_everything);
            }
            ("iam.amazonaws.com", "CreatePolicy" | "CreatePolicyVersion") => {
                let doc = text("policyDocument").and_then(parse_policy);
                out.allows_everything = doc.as_ref().is_some_and(allows_everything);
            }
            ("sts.amazonaws.com", "GetFederationToken") => {
                let doc = text("policy").and_then(parse_policy);
                out.allows_everything = doc.as_ref().is_some_and(allows_everything);
            }
            ("s3.amazonaws.com", "PutBucketLifecycle") => {
                out.expiry_days = shortest_expiry(params.get("LifecycleConfiguration"));
            }
            ("iam.amazonaws.com", "CreateRole" | "UpdateAssumeRolePolicy") => {
                let doc = text("assumeRolePolicyDocument").or_else(|| text("policyDocument"));
                out.grant_policy_principals(doc.and_then(parse_policy).as_ref());
            }
            ("s3.amazonaws.com", "PutBucketPolicy") => {
                let doc = match params.get("bucketPolicy") {
                    Some(Value::String(s)) => parse_policy(s),
                    other => other.cloned(),
                };
                out.grant_policy_principals(doc.as_ref());
            }
            ("lambda.amazonaws.com", n) if n.starts_with("AddPermission") => {
                if let Some(p) = text("principal").filter(|p| !p.ends_with(".amazonaws.com")) {
                    out.grant(p);
                }
            }
            ("lambda.amazonaws.com", n)
                if n.starts_with("UpdateFunctionConfiguration")
                    || n.starts_with("CreateFunction") =>
            {
                for layer in params
                    .get("layers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .take(LIST_MAX)
                {
                    out.layers.push(bounded(layer));
                }
            }
            ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress") => out.grant_ingress(params),
            ("ec2.amazonaws.com", "RunInstances") => {
                out.instance_type = text("instanceType").map(bounded);
                out.instance_count = params
                    .pointer("/instancesSet/items/0/maxCount")
                    .or_else(|| params.get("maxCount"))
                    .and_then(Value::as_u64);
            }
            ("ec2.amazonaws.com", "DescribeInstanceAttribute" | "ModifyInstanceAttribute") => {
                out.attribute = text("attribute").map(bounded).or_else(|| {
                    ["userData", "instanceType", "disableApiTermination"]
                        .into_iter()
                        .find(|k| params.get(*k).is_some())
                        .map(str::to_owned)
                });
            }
            ("cloudtrail.amazonaws.com", "PutEventSelectors") => {
                out.logging_narrowed = narrows_logging(params);
            }
            ("ssm.amazonaws.com", n) if n.starts_with("GetParameter") => {
                out.with_decryption = params
                    .get("withDecryption")
                    .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"));
                out.name_secrets(params, &["name", "names", "path"]);
            }
            ("secretsmanager.amazonaws.com", "GetSecretValue" | "BatchGetSecretValue") => {
                out.name_secrets(params, &["secretId", "secretIdList"]);
            }
            _ => {}
        }
        out
    }

    /// The names under `keys`, each a string or a list of strings.
    fn name_secrets(&mut self, params: &Value, keys: &[&str]) {
        for key in keys {
            let values: Vec<&str> = match params.get(*key) {
                Some(Value::String(s)) => vec![s.as_str()],
                Some(Value::Array(all)) => all.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            for v in values {
                if self.secrets.len() < SECRETS_MAX && !self.secrets.iter().any(|s| s == v) {
                    self.secrets.push(bounded(v));
                }
            }
        }
    }

    fn grant(&mut self, who: &str) {
        let who = bounded(who);
        if self.granted_to.len() < LIST_MAX && !self.granted_to.contains(&who) {
            self.granted_to.push(who);
        }
    }

    /// `{"items": [{"userId": "..."} | {"group": "all"}]}` of EC2 permission changes.
    fn grant_items(&mut self, items: Option<&Value>) {
        for item in items.and_then(Value::as_array).into_iter().flatten() {
            if let Some(id) = item.get("userId").and_then(Value::as_str) {
                self.grant(id);
            }
            if item.get("group").and_then(Value::as_str) == Some("all") {
                self.grant("*");
            }
        }
    }

    /// The `AWS` principals (and `*`) of every `Allow` statement of a resource or trust policy.
    /// Service and federated principals are left out: they are AWS services and identity
    /// providers the account chose, not other accounts.
    fn grant_policy_principals(&mut self, policy: Option<&Value>) {
        let Some(policy) = policy else { return };
        for s in one_or_many(policy.get("Statement")) {
            if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
                continue;
            }
            match s.get("Principal") {
                Some(Value::String(p)) if p == "*" => self.grant("*"),
                Some(Value::Object(p)) => match p.get("AWS") {
                    Some(Value::String(a)) => self.grant(a),
                    Some(Value::Array(all)) => {
                        for a in all.iter().filter_map(Value::as_str) {
                            self.grant(a);
                        }
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }

    /// Ingress from whole-internet ranges (a `/0`, whatever address precedes it: CloudTrail
    /// records what was sent), as `cidr:from-to`.
    fn grant_ingress(&mut self, params: &Value) {
        let port = |v: &Value, key: &str| v.get(key).and_then(Value::as_i64).unwrap_or(-1);
        let mut ranges: Vec<(String, i64, i64)> = Vec::new();
        if let Some(cidr) = params.get("cidrIp").and_then(Value::as_str) {
            ranges.push((
                cidr.to_owned(),
                port(params, "fromPort"),
                port(params, "toPort"),
            ));
        }
        let permissions = params
            .pointer("/ipPermissions/items")
            .and_then(Value::as_array);
        for p in permissions.into_iter().flatten() {
            for key in ["/ipRanges/items", "/ipv6Ranges/items"] {
                for r in p
                    .pointer(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let cidr = r.get("cidrIp").or_else(|| r.get("cidrIpv6"));
                    if let Some(cidr) = cidr.and_then(Value::as_str) {
                        ranges.push((cidr.to_owned(), port(p, "fromPort"), port(p, "toPort")));
                    }
                }
            }
        }
        for (cidr, from, to) in ranges {
            if cidr.ends_with("/0") {
                self.grant(&format!("{cidr}:{from}-{to}"));
            }
        }
    }
}

/// A value IAM and S3 accept either alone or as a list (`Statement`, `Action`, `Rule`).
fn one_or_many(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Array(all)) => all.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    }
}

/// Whether every statement of a policy denies.
fn denies_only(policy: &Value) -> bool {
    let statements = one_or_many(policy.get("Statement"));
    !statements.is_empty()
        && statements
            .iter()
            .all(|s| s.get("Effect").and_then(Value::as_str) == Some("Deny"))
}

/// Whether a statement allows `*` (every action of every service) on `*`, with no condition:
/// the content of `AdministratorAccess`.
fn allows_everything(policy: &Value) -> bool {
    let is_star = |v: Option<&Value>| one_or_many(v).iter().any(|a| a.as_str() == Some("*"));
    one_or_many(policy.get("Statement")).iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Allow")
            && is_star(s.get("Action"))
            && is_star(s.get("Resource"))
            && s.get("Condition").is_none()
    })
}

/// The fewest days after which an enabled lifecycle rule expires current or noncurrent objects.
/// CloudTrail records the configuration as S3 received it, XML turned into JSON: one rule is an
/// object, several a list.
fn shortest_expiry(configuration: Option<&Value>) -> Option<u64> {
    let days = |v: Option<&Value>| -> Option<u64> {
        match v? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    };
    one_or_many(configuration?.get("Rule"))
        .into_iter()
        .filter(|r| r.get("Status").and_then(Value::as_str) == Some("Enabled"))
        .flat_map(|r| {
            [
                days(r.pointer("/Expiration/Days")),
                days(r.pointer("/NoncurrentVersionExpiration/NoncurrentDays")),
            ]
        })
        .flatten()
        .min()
}

/// Whether event selectors leave a trail without management events, or with only reads or
/// only writes of them.
fn narrows_logging(params: &Value) -> bool {
    let selectors = params.get("eventSelectors").and_then(Value::as_array);
    let advanced = params
        .get("advancedEventSelectors")
        .and_then(Value::as_array);
    if let Some(selectors) = selectors {
        return selectors.iter().all(|s| {
            s.get("includeManagementEvents").and_then(Value::as_bool) == Some(false)
                || s.get("readWriteType")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t != "All")
        });
    }
    // Advanced selectors: management events are logged only by a selector on that category.
    advanced.is_some_and(|all| {
        !all.iter().any(|s| {
            s.to_string().contains("\"Management\"") && !s.to_string().contains("readOnly")
        })
    })
}

/// Policy documents arrive as JSON strings, sometimes URL-encoded (older IAM records).
fn parse_policy(raw: &str) -> Option<Value> {
    serde_json::from_str(raw).ok().or_else(|| {
        let decoded = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .ok()?;
        serde_json::from_str(&decoded).ok()
    })
}

fn bounded(s: &str) -> String {
    limits::bounded(s, NAME_MAX).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sharing_a_snapshot_or_image_names_the_accounts_and_public_as_star() {
        let d = CallDetails::of(
            "ec2.amazonaws.com",
            "ModifySnapshotAttribute",
            Some(
                &json!({"createVolumePermission": {"add": {"items": [{"userId": "098797384747"}]}}}),
            ),
        );
        assert_eq!(d.granted_to, ["098797384747"]);
        let d = CallDetails::of(
            "ec2.amazonaws.com",
            "ModifyImageAttribute",
            Some(&json!({"launchPermission": {"add": {"items": [{"group": "all"}]}}})),
        );
        assert_eq!(d.granted_to, ["*"]);
        let d = CallDetails::of(
            "rds.amazonaws.com",
            "ModifyDBSnapshotAttribute",
            Some(&json!({"attributeName": "restore", "valuesToAdd": ["all"]})),
        );
        assert_eq!(d.granted_to, ["*"]);
    }

    #[test]
    fn trust_policies_name_their_aws_principals_not_services() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::193672423079:root"}},
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}}]});
        let d = CallDetails::of(
            "iam.amazonaws.com",
            "CreateRole",
            Some(&json!({"assumeRolePolicyDocument": doc.to_string()})),
        );
        assert_eq!(d.granted_to, ["arn:aws:iam::193672423079:root"]);
        let encoded: String = percent_encoding::utf8_percent_encode(
            &doc.to_string(),
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string();
        let d = CallDetails::of(
            "iam.amazonaws.com",
            "UpdateAssumeRolePolicy",
            Some(&json!({"policyDocument": encoded})),
        );
        assert_eq!(d.granted_to, ["arn:aws:iam::193672423079:root"]);
    }

    #[test]
    fn world_open_ingress_and_narrowed_selectors_are_recognised() {
        let d = CallDetails::of(
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            Some(&json!({"cidrIp": "208.236.235.254/0", "fromPort": 22, "toPort": 22})),
        );
        assert_eq!(d.granted_to, ["208.236.235.254/0:22-22"]);
        let d = CallDetails::of(
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            Some(&json!({"cidrIp": "10.0.0.0/16", "fromPort": 22, "toPort": 22})),
        );
        assert!(d.is_empty());
        let d = CallDetails::of(
            "cloudtrail.amazonaws.com",
            "PutEventSelectors",
            Some(
                &json!({"eventSelectors": [{"includeManagementEvents": false, "readWriteType": "ReadOnly"}]}),
            ),
        );
        assert!(d.logging_narrowed);
        let d = CallDetails::of(
            "cloudtrail.amazonaws.com",
            "PutEventSelectors",
            Some(
                &json!({"eventSelectors": [{"includeManagementEvents": true, "readWriteType": "All"}]}),
            ),
        );
        assert!(!d.logging_narrowed);
    }

    #[test]
    fn secret_reads_name_every_secret_they_read() {
        let d = CallDetails::of(
            "ssm.amazonaws.com",
            "GetParameters",
            Some(&json!({"names": ["/a", "/b", "/a"], "withDecryption": true})),
        );
        assert!(d.with_decryption);
        assert_eq!(d.secrets, ["/a", "/b"]);
        let d = CallDetails::of(
            "secretsmanager.amazonaws.com",
            "BatchGetSecretValue",
            Some(&json!({"secretIdList": ["s1", "s2"]})),
        );
        assert_eq!(d.secrets, ["s1", "s2"]);
    }

    #[test]
    fn an_inline_policy_that_only_denies_is_told_apart() {
        let deny = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]});
        let allow = json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}});
        let of = |doc: &Value| {
            CallDetails::of(
                "iam.amazonaws.com",
                "PutUserPolicy",
                Some(&json!({"policyDocument": doc.to_string()})),
            )
            .denies_only
        };
        assert!(of(&deny));
        assert!(!of(&allow));
    }

    #[test]
    fn a_policy_allowing_every_action_on_every_resource_is_administrator() {
        // GetFederationToken's session policy as the Stratus Red Team detonation sent it.
        let federation = CallDetails::of(
            "sts.amazonaws.com",
            "GetFederationToken",
            Some(&json!({"name": "session", "policy":
                "{\n\t\"Version\": \"2012-10-17\",\n\t\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}]}"})),
        );
        assert!(federation.allows_everything);
        let of = |doc: Value| {
            CallDetails::of(
                "iam.amazonaws.com",
                "PutRolePolicy",
                Some(&json!({"policyDocument": doc.to_string()})),
            )
            .allows_everything
        };
        assert!(of(
            json!({"Statement": {"Effect": "Allow", "Action": ["*"], "Resource": "*"}})
        ));
        assert!(!of(
            json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}})
        ));
        assert!(!of(
            json!({"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}})
        ));
        assert!(!of(
            json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}})
        ));
    }

    #[test]
    fn lifecycle_expiry_is_the_shortest_enabled_rule() {
        // The shapes of the Panther rule-test records (one rule as an object).
        let of = |configuration: Value| {
            CallDetails::of(
                "s3.amazonaws.com",
                "PutBucketLifecycle",
                Some(&json!({"bucketName": "trail-logs", "LifecycleConfiguration": configuration})),
            )
            .expiry_days
        };
        assert_eq!(
            of(json!({"Rule": {"Expiration": {"Days": 1}, "Status": "Enabled"}})),
            Some(1)
        );
        assert_eq!(
            of(json!({"Rule": {"Expiration": {"Days": 1}, "Status": "Disabled"}})),
            None
        );
        assert_eq!(
            of(json!({"Rule": [
                {"Expiration": {"Days": 730}, "NoncurrentVersionExpiration": {"NoncurrentDays": "30"},
                    "Status": "Enabled"},
                {"Transition": {"Days": 30, "StorageClass": "GLACIER"}, "Status": "Enabled"}]})),
            Some(30)
        );
    }

    #[test]
    fn launches_say_type_and_count() {
        let d = CallDetails::of(
            "ec2.amazonaws.com",
            "RunInstances",
            Some(
                &json!({"instanceType": "p2.xlarge", "instancesSet": {"items": [{"maxCount": 10}]}}),
            ),
        );
        assert_eq!(
            (d.instance_type.as_deref(), d.instance_count),
            (Some("p2.xlarge"), Some(10))
        );
        assert!(
            CallDetails::of("ec2.amazonaws.com", "RunInstances", Some(&json!("odd"))).is_empty()
        );
    }
}
