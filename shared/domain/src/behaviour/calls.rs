//! What a call name or a user agent says about the call: read or write, which tool sent it.

use crate::activity::READ_PREFIXES;

/// A call that only reads: CloudTrail's `readOnly` when the record has it, else the verb.
pub fn is_read_only(read_only: Option<bool>, name: &str) -> bool {
    read_only.unwrap_or_else(|| READ_PREFIXES.iter().any(|p| name.starts_with(p)))
}

/// A call made through the AWS Management Console: CloudTrail records the console's own user
/// agents (`console.amazonaws.com`, `console.ec2.amazonaws.com`, `signin.amazonaws.com`,
/// `AWS Internal`, `...ConsoleFrontend, aws-internal/3 ...`). One person browsing a console page
/// makes dozens of Describe calls across services; enumeration tools use the SDK or the CLI.
pub fn is_console_user_agent(user_agent: &str) -> bool {
    let has = |needle: &str| contains_ignoring_case(user_agent, needle);
    (has("console") && has("amazonaws.com"))
        || has("signin.amazonaws.com")
        || user_agent
            .get(..12)
            .is_some_and(|p| p.eq_ignore_ascii_case("aws internal"))
        || has("aws-internal")
        || has("consolefrontend")
}

/// `haystack` contains the lower-case ASCII `needle`, in any case, without allocating: these
/// run on every aggregate of a busy window.
fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Reads of data rather than of configuration: object contents, table items. Taking data is
/// collection or exfiltration, never "only looking".
pub fn is_data_read(event_source: &str, event_name: &str) -> bool {
    match event_source {
        "s3.amazonaws.com" => {
            event_name.starts_with("GetObject") || event_name == "SelectObjectContent"
        }
        "dynamodb.amazonaws.com" => {
            matches!(
                event_name,
                "GetItem" | "BatchGetItem" | "Query" | "Scan" | "ExecuteStatement"
            )
        }
        _ => false,
    }
}

/// An AWS service acting on its own for the principal (`invokedBy`, or its name where the
/// address would be). The console (`AWS Internal`, `signin.amazonaws.com`, `console...`) is a
/// person at a browser, not a service.
pub fn is_service_caller(caller: &str) -> bool {
    caller.ends_with(".amazonaws.com") && !is_console_user_agent(caller)
}

/// Tools whose user agent names them, and what kind of tool each is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKind {
    /// Infrastructure or policy as code: planned changes from a pipeline or a reviewed policy.
    InfrastructureAsCode,
    /// Posture and audit scanners: read-only by design.
    Audit,
}

/// User-agent fragments of well-known tools, matched case-insensitively. Each tool documents its
/// user agent: Terraform's AWS provider sends `HashiCorp/1.0 Terraform/<v>`, CloudFormation calls
/// other services as `cloudformation.amazonaws.com`, the CDK and Pulumi name themselves, Prowler,
/// ScoutSuite and Steampipe set their names in the SDK's user agent, and Cloud Custodian
/// (`CloudCustodian(<policy>)/<v>`) applies policies as code, so its changes are planned ones.
const TOOLS: [(&str, &str, ToolKind); 12] = [
    ("terraform", "Terraform", ToolKind::InfrastructureAsCode),
    (
        "cloudformation.amazonaws.com",
        "CloudFormation",
        ToolKind::InfrastructureAsCode,
    ),
    ("aws-cdk", "AWS CDK", ToolKind::InfrastructureAsCode),
    ("pulumi", "Pulumi", ToolKind::InfrastructureAsCode),
    ("ansible", "Ansible", ToolKind::InfrastructureAsCode),
    ("prowler", "Prowler", ToolKind::Audit),
    ("scoutsuite", "ScoutSuite", ToolKind::Audit),
    ("steampipe", "Steampipe", ToolKind::Audit),
    (
        "cloudcustodian",
        "Cloud Custodian",
        ToolKind::InfrastructureAsCode,
    ),
    ("c7n", "Cloud Custodian", ToolKind::InfrastructureAsCode),
    ("config.amazonaws.com", "AWS Config", ToolKind::Audit),
    ("securityhub.amazonaws.com", "Security Hub", ToolKind::Audit),
];

/// The tool a user agent (or an `invokedBy` service) names, if it is one we know.
pub fn tool_of_user_agent(user_agent: &str) -> Option<(&'static str, ToolKind)> {
    TOOLS
        .iter()
        .find(|(needle, _, _)| contains_ignoring_case(user_agent, needle))
        .map(|(_, name, kind)| (*name, *kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_are_told_by_their_documented_user_agents() {
        let tf = "APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) terraform-provider-aws/5.17.0";
        assert_eq!(
            tool_of_user_agent(tf),
            Some(("Terraform", ToolKind::InfrastructureAsCode))
        );
        assert_eq!(
            tool_of_user_agent("cloudformation.amazonaws.com").map(|t| t.1),
            Some(ToolKind::InfrastructureAsCode)
        );
        assert_eq!(
            tool_of_user_agent("Boto3/1.26 Python/3.11 prowler/3.8").map(|t| t.1),
            Some(ToolKind::Audit)
        );
        assert_eq!(tool_of_user_agent("aws-cli/2.13.0 Python/3.11"), None);
    }

    #[test]
    fn console_user_agents_are_told_from_sdk_and_cli() {
        assert!(is_console_user_agent("console.ec2.amazonaws.com"));
        assert!(is_console_user_agent("AWS Internal"));
        assert!(is_console_user_agent(
            "EC2ConsoleFrontend, aws-internal/3 aws-sdk-java/1.11.848"
        ));
        assert!(is_console_user_agent(
            "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750]"
        ));
        assert!(!is_console_user_agent("aws-cli/2.13.0 Python/3.11"));
        assert!(!is_console_user_agent(
            "Boto3/1.26.0 Python/3.9 Botocore/1.29"
        ));
    }

    #[test]
    fn read_only_follows_the_record_then_the_verb() {
        assert!(is_read_only(Some(true), "AssumeRole"));
        assert!(!is_read_only(Some(false), "GetObject"));
        assert!(is_read_only(None, "ListUsers"));
        assert!(!is_read_only(None, "CreateUser"));
    }
}
