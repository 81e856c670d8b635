//! The GuardDuty finding, as documented in the finding format (schema 2.0).
//!
//! Every resource and action type GuardDuty documents has a typed part here; anything newer is
//! kept (`Other(String)`, `serde_json::Value`) or ignored, never rejected, because a finding type
//! we have never seen must still reach the on-call engineer. Only the fields the dedupe key and
//! the notice cannot do without (`id`, `type`, `severity`) are strict.

use super::ids::{FindingId, Severity};
use crate::lenient::buffered as lenient;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub id: FindingId,
    #[serde(rename = "type")]
    pub finding_type: String,
    pub severity: Severity,
    #[serde(default, deserialize_with = "lenient::text")]
    pub account_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub region: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub partition: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub arn: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub schema_version: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub updated_at: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub resource: Option<Resource>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub service: Option<Service>,
}

/// A resource type, open-ended: GuardDuty adds protection plans every year.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(from = "String", into = "String")]
pub enum ResourceType {
    Instance,
    AccessKey,
    S3Bucket,
    EksCluster,
    EcsCluster,
    Container,
    RdsDbInstance,
    RdsLimitlessDb,
    Lambda,
    AttackSequence,
    Other(String),
}

impl From<String> for ResourceType {
    fn from(raw: String) -> Self {
        match raw.as_str() {
            "Instance" => Self::Instance,
            "AccessKey" => Self::AccessKey,
            "S3Bucket" => Self::S3Bucket,
            "EKSCluster" => Self::EksCluster,
            "ECSCluster" => Self::EcsCluster,
            "Container" => Self::Container,
            "RDSDBInstance" => Self::RdsDbInstance,
            "RDSLimitlessDB" => Self::RdsLimitlessDb,
            "Lambda" => Self::Lambda,
            "AttackSequence" => Self::AttackSequence,
            _ => Self::Other(raw),
        }
    }
}

impl From<ResourceType> for String {
    fn from(value: ResourceType) -> Self {
        value.as_str().to_owned()
    }
}

impl ResourceType {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Instance => "Instance",
            Self::AccessKey => "AccessKey",
            Self::S3Bucket => "S3Bucket",
            Self::EksCluster => "EKSCluster",
            Self::EcsCluster => "ECSCluster",
            Self::Container => "Container",
            Self::RdsDbInstance => "RDSDBInstance",
            Self::RdsLimitlessDb => "RDSLimitlessDB",
            Self::Lambda => "Lambda",
            Self::AttackSequence => "AttackSequence",
            Self::Other(raw) => raw,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    #[serde(default, deserialize_with = "lenient::opt")]
    pub resource_type: Option<ResourceType>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub instance_details: Option<InstanceDetails>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub access_key_details: Option<AccessKeyDetails>,
    #[serde(default, deserialize_with = "lenient::vec")]
    pub s3_bucket_details: Vec<S3BucketDetail>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub eks_cluster_details: Option<EksClusterDetails>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub kubernetes_details: Option<KubernetesDetails>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub ecs_cluster_details: Option<EcsClusterDetails>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub container_details: Option<ContainerDetails>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub rds_db_instance_details: Option<RdsDbInstanceDetails>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub rds_db_user_details: Option<RdsDbUserDetails>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub lambda_details: Option<LambdaDetails>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub ebs_volume_details: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    #[serde(default, deserialize_with = "lenient::text")]
    pub key: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub value: Option<String>,
}

/// The `Name` tag, which is how people recognise an instance or cluster in the console.
pub fn name_tag(tags: &[Tag]) -> Option<&str> {
    tags.iter()
        .find(|t| t.key.as_deref() == Some("Name"))
        .and_then(|t| t.value.as_deref())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceDetails {
    #[serde(default, deserialize_with = "lenient::text")]
    pub instance_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub instance_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub instance_state: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub image_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub platform: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub iam_instance_profile: Option<IamInstanceProfile>,
    #[serde(default, deserialize_with = "lenient::vec")]
    pub network_interfaces: Vec<NetworkInterface>,
    #[serde(default, deserialize_with = "lenient::vec")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IamInstanceProfile {
    #[serde(default, deserialize_with = "lenient::text")]
    pub arn: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkInterface {
    #[serde(default, deserialize_with = "lenient::text")]
    pub network_interface_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub private_ip_address: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub public_ip: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub vpc_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub subnet_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessKeyDetails {
    #[serde(default, deserialize_with = "lenient::text")]
    pub access_key_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub principal_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub user_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub user_type: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct S3BucketDetail {
    #[serde(default, deserialize_with = "lenient::text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub arn: Option<String>,
    #[serde(default, deserialize_with = "lenient::text", rename = "type")]
    pub bucket_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub public_access: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EksClusterDetails {
    #[serde(default, deserialize_with = "lenient::text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub arn: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub vpc_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::vec")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubernetesDetails {
    #[serde(default, deserialize_with = "lenient::opt")]
    pub kubernetes_user_details: Option<KubernetesUserDetails>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub kubernetes_workload_details: Option<KubernetesWorkloadDetails>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubernetesUserDetails {
    #[serde(default, deserialize_with = "lenient::text")]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub uid: Option<String>,
    #[serde(default, deserialize_with = "lenient::vec")]
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubernetesWorkloadDetails {
    #[serde(default, deserialize_with = "lenient::text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text", rename = "type")]
    pub workload_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EcsClusterDetails {
    #[serde(default, deserialize_with = "lenient::text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub arn: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub task_details: Option<EcsTaskDetails>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EcsTaskDetails {
    #[serde(default, deserialize_with = "lenient::text")]
    pub arn: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub definition_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerDetails {
    #[serde(default, deserialize_with = "lenient::text")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub image: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RdsDbInstanceDetails {
    #[serde(default, deserialize_with = "lenient::text")]
    pub db_instance_identifier: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub db_cluster_identifier: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub engine: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RdsDbUserDetails {
    #[serde(default, deserialize_with = "lenient::text")]
    pub user: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub application: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub database: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LambdaDetails {
    #[serde(default, deserialize_with = "lenient::text")]
    pub function_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub function_arn: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub execution_role: Option<Value>,
}

/// The resource's part in the activity: an instance that attacks is worse news than one that
/// is attacked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(from = "String", into = "String")]
pub enum ResourceRole {
    Actor,
    Target,
    Other(String),
}

impl From<String> for ResourceRole {
    fn from(raw: String) -> Self {
        match raw.to_ascii_uppercase().as_str() {
            "ACTOR" => Self::Actor,
            "TARGET" => Self::Target,
            _ => Self::Other(raw),
        }
    }
}

impl From<ResourceRole> for String {
    fn from(value: ResourceRole) -> Self {
        match value {
            ResourceRole::Actor => "ACTOR".into(),
            ResourceRole::Target => "TARGET".into(),
            ResourceRole::Other(raw) => raw,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    #[serde(default, deserialize_with = "lenient::opt")]
    pub action: Option<Action>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub additional_info: Option<Value>,
    /// GuardDuty's anomaly profiles (`detection.anomaly`), kept raw: see `super::anomaly`.
    #[serde(default, deserialize_with = "lenient::opt")]
    pub detection: Option<Value>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub archived: bool,
    #[serde(default, deserialize_with = "lenient::number")]
    pub count: Option<i64>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub detector_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub event_first_seen: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub event_last_seen: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub resource_role: Option<ResourceRole>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub feature_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub evidence: Option<Evidence>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub runtime_details: Option<Value>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub ebs_volume_scan_details: Option<Value>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub malware_scan_details: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    #[serde(default, deserialize_with = "lenient::vec")]
    pub threat_intelligence_details: Vec<ThreatIntelligenceDetail>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreatIntelligenceDetail {
    #[serde(default, deserialize_with = "lenient::text")]
    pub threat_list_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::vec")]
    pub threat_names: Vec<String>,
}

/// An action type, open-ended for the same reason as [`ResourceType`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(from = "String", into = "String")]
pub enum ActionType {
    NetworkConnection,
    PortProbe,
    DnsRequest,
    AwsApiCall,
    RdsLoginAttempt,
    KubernetesApiCall,
    KubernetesPermissionChecked,
    KubernetesRoleBinding,
    KubernetesRole,
    Other(String),
}

impl From<String> for ActionType {
    fn from(raw: String) -> Self {
        match raw.as_str() {
            "NETWORK_CONNECTION" => Self::NetworkConnection,
            "PORT_PROBE" => Self::PortProbe,
            "DNS_REQUEST" => Self::DnsRequest,
            "AWS_API_CALL" => Self::AwsApiCall,
            "RDS_LOGIN_ATTEMPT" => Self::RdsLoginAttempt,
            "KUBERNETES_API_CALL" => Self::KubernetesApiCall,
            "KUBERNETES_PERMISSION_CHECKED" => Self::KubernetesPermissionChecked,
            "KUBERNETES_ROLE_BINDING" => Self::KubernetesRoleBinding,
            "KUBERNETES_ROLE" => Self::KubernetesRole,
            _ => Self::Other(raw),
        }
    }
}

impl From<ActionType> for String {
    fn from(value: ActionType) -> Self {
        value.as_str().to_owned()
    }
}

impl ActionType {
    pub fn as_str(&self) -> &str {
        match self {
            Self::NetworkConnection => "NETWORK_CONNECTION",
            Self::PortProbe => "PORT_PROBE",
            Self::DnsRequest => "DNS_REQUEST",
            Self::AwsApiCall => "AWS_API_CALL",
            Self::RdsLoginAttempt => "RDS_LOGIN_ATTEMPT",
            Self::KubernetesApiCall => "KUBERNETES_API_CALL",
            Self::KubernetesPermissionChecked => "KUBERNETES_PERMISSION_CHECKED",
            Self::KubernetesRoleBinding => "KUBERNETES_ROLE_BINDING",
            Self::KubernetesRole => "KUBERNETES_ROLE",
            Self::Other(raw) => raw,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    #[serde(default, deserialize_with = "lenient::opt")]
    pub action_type: Option<ActionType>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub network_connection_action: Option<NetworkConnectionAction>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub port_probe_action: Option<PortProbeAction>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub dns_request_action: Option<DnsRequestAction>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub aws_api_call_action: Option<AwsApiCallAction>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub rds_login_attempt_action: Option<RdsLoginAttemptAction>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub kubernetes_api_call_action: Option<KubernetesApiCallAction>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteIpDetails {
    #[serde(default, deserialize_with = "lenient::text")]
    pub ip_address_v4: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub ip_address_v6: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub organization: Option<Organization>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub country: Option<Country>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub city: Option<City>,
}

impl RemoteIpDetails {
    pub fn ip(&self) -> Option<&str> {
        self.ip_address_v4
            .as_deref()
            .or(self.ip_address_v6.as_deref())
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    #[serde(default, deserialize_with = "lenient::text")]
    pub asn: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub asn_org: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub isp: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub org: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Country {
    #[serde(default, deserialize_with = "lenient::text")]
    pub country_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub country_code: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct City {
    #[serde(default, deserialize_with = "lenient::text")]
    pub city_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortDetails {
    #[serde(default, deserialize_with = "lenient::number")]
    pub port: Option<i64>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub port_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkConnectionAction {
    #[serde(default, deserialize_with = "lenient::flag")]
    pub blocked: bool,
    #[serde(default, deserialize_with = "lenient::text")]
    pub connection_direction: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub protocol: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub local_port_details: Option<PortDetails>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub remote_port_details: Option<PortDetails>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub local_ip_details: Option<LocalIpDetails>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub remote_ip_details: Option<RemoteIpDetails>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalIpDetails {
    #[serde(default, deserialize_with = "lenient::text")]
    pub ip_address_v4: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub ip_address_v6: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortProbeAction {
    #[serde(default, deserialize_with = "lenient::flag")]
    pub blocked: bool,
    #[serde(default, deserialize_with = "lenient::vec")]
    pub port_probe_details: Vec<PortProbeDetail>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortProbeDetail {
    #[serde(default, deserialize_with = "lenient::opt")]
    pub local_port_details: Option<PortDetails>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub remote_ip_details: Option<RemoteIpDetails>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DnsRequestAction {
    #[serde(default, deserialize_with = "lenient::text")]
    pub domain: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub protocol: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub blocked: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AwsApiCallAction {
    #[serde(default, deserialize_with = "lenient::text")]
    pub api: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub service_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub caller_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub error_code: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub user_agent: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub remote_ip_details: Option<RemoteIpDetails>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub remote_account_details: Option<RemoteAccountDetails>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub domain_details: Option<DomainDetails>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub affected_resources: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteAccountDetails {
    #[serde(default, deserialize_with = "lenient::text")]
    pub account_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub affiliated: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainDetails {
    #[serde(default, deserialize_with = "lenient::text")]
    pub domain: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RdsLoginAttemptAction {
    #[serde(default, deserialize_with = "lenient::opt")]
    pub remote_ip_details: Option<RemoteIpDetails>,
    /// The API model spells this one `LoginAttributes`; accept both.
    #[serde(default, alias = "LoginAttributes", deserialize_with = "lenient::vec")]
    pub login_attributes: Vec<LoginAttribute>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginAttribute {
    #[serde(default, deserialize_with = "lenient::text")]
    pub user: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub application: Option<String>,
    #[serde(default, deserialize_with = "lenient::number")]
    pub failed_login_attempts: Option<i64>,
    #[serde(default, deserialize_with = "lenient::number")]
    pub successful_login_attempts: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubernetesApiCallAction {
    #[serde(default, deserialize_with = "lenient::text")]
    pub request_uri: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub verb: Option<String>,
    /// Spelled `sourceIPs` in the finding format, like the audit log's field it copies.
    #[serde(
        default,
        rename = "sourceIPs",
        alias = "sourceIps",
        deserialize_with = "lenient::vec"
    )]
    pub source_ips: Vec<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub resource: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub subresource: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub namespace: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub resource_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub user_agent: Option<String>,
    #[serde(default, deserialize_with = "lenient::number")]
    pub status_code: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt")]
    pub remote_ip_details: Option<RemoteIpDetails>,
}
