//! The flow-log fields we understand, by the name a header line gives them.
//!
//! A flow log delivered to S3 names its fields in its first line, in the order chosen when the
//! flow log was created (`flow-logs.md`, "Available fields"). Fields of versions 2 to 5 are known
//! here; names from later versions (ECS metadata, reject reason, ...) are valid in a header but
//! ignored, so a new AWS field never makes an object unreadable.

use std::fmt;

/// A known flow-log field. The variants follow the table of available fields in the AWS
/// documentation; [`Field::version`] gives the version that introduced each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Version,
    AccountId,
    InterfaceId,
    SrcAddr,
    DstAddr,
    SrcPort,
    DstPort,
    Protocol,
    Packets,
    Bytes,
    Start,
    End,
    Action,
    LogStatus,
    VpcId,
    SubnetId,
    InstanceId,
    TcpFlags,
    Type,
    PktSrcAddr,
    PktDstAddr,
    Region,
    AzId,
    SublocationType,
    SublocationId,
    PktSrcAwsService,
    PktDstAwsService,
    FlowDirection,
    TrafficPath,
}

impl Field {
    /// Every known field, in the order of the documentation's table.
    pub const ALL: [Field; 29] = [
        Field::Version,
        Field::AccountId,
        Field::InterfaceId,
        Field::SrcAddr,
        Field::DstAddr,
        Field::SrcPort,
        Field::DstPort,
        Field::Protocol,
        Field::Packets,
        Field::Bytes,
        Field::Start,
        Field::End,
        Field::Action,
        Field::LogStatus,
        Field::VpcId,
        Field::SubnetId,
        Field::InstanceId,
        Field::TcpFlags,
        Field::Type,
        Field::PktSrcAddr,
        Field::PktDstAddr,
        Field::Region,
        Field::AzId,
        Field::SublocationType,
        Field::SublocationId,
        Field::PktSrcAwsService,
        Field::PktDstAwsService,
        Field::FlowDirection,
        Field::TrafficPath,
    ];

    /// The default format: the version 2 fields, in this order, with no header choice to make.
    pub const DEFAULT_V2: [Field; 14] = [
        Field::Version,
        Field::AccountId,
        Field::InterfaceId,
        Field::SrcAddr,
        Field::DstAddr,
        Field::SrcPort,
        Field::DstPort,
        Field::Protocol,
        Field::Packets,
        Field::Bytes,
        Field::Start,
        Field::End,
        Field::Action,
        Field::LogStatus,
    ];

    /// The name of the field in a header line (and in the flow log's format string, without the
    /// `${...}`).
    pub const fn name(self) -> &'static str {
        match self {
            Field::Version => "version",
            Field::AccountId => "account-id",
            Field::InterfaceId => "interface-id",
            Field::SrcAddr => "srcaddr",
            Field::DstAddr => "dstaddr",
            Field::SrcPort => "srcport",
            Field::DstPort => "dstport",
            Field::Protocol => "protocol",
            Field::Packets => "packets",
            Field::Bytes => "bytes",
            Field::Start => "start",
            Field::End => "end",
            Field::Action => "action",
            Field::LogStatus => "log-status",
            Field::VpcId => "vpc-id",
            Field::SubnetId => "subnet-id",
            Field::InstanceId => "instance-id",
            Field::TcpFlags => "tcp-flags",
            Field::Type => "type",
            Field::PktSrcAddr => "pkt-srcaddr",
            Field::PktDstAddr => "pkt-dstaddr",
            Field::Region => "region",
            Field::AzId => "az-id",
            Field::SublocationType => "sublocation-type",
            Field::SublocationId => "sublocation-id",
            Field::PktSrcAwsService => "pkt-src-aws-service",
            Field::PktDstAwsService => "pkt-dst-aws-service",
            Field::FlowDirection => "flow-direction",
            Field::TrafficPath => "traffic-path",
        }
    }

    /// The flow-log version that introduced the field.
    pub const fn version(self) -> u8 {
        match self {
            Field::Version
            | Field::AccountId
            | Field::InterfaceId
            | Field::SrcAddr
            | Field::DstAddr
            | Field::SrcPort
            | Field::DstPort
            | Field::Protocol
            | Field::Packets
            | Field::Bytes
            | Field::Start
            | Field::End
            | Field::Action
            | Field::LogStatus => 2,
            Field::VpcId
            | Field::SubnetId
            | Field::InstanceId
            | Field::TcpFlags
            | Field::Type
            | Field::PktSrcAddr
            | Field::PktDstAddr => 3,
            Field::Region | Field::AzId | Field::SublocationType | Field::SublocationId => 4,
            Field::PktSrcAwsService
            | Field::PktDstAwsService
            | Field::FlowDirection
            | Field::TrafficPath => 5,
        }
    }

    /// The field a header name denotes, or `None` for a name we do not know (ignored column).
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_versions_follow_the_documentation() {
        for field in Field::ALL {
            assert_eq!(Field::from_name(field.name()), Some(field));
        }
        assert!(Field::DEFAULT_V2.iter().all(|f| f.version() == 2));
        assert_eq!(Field::ALL.iter().filter(|f| f.version() == 2).count(), 14);
        assert_eq!(Field::TcpFlags.version(), 3);
        assert_eq!(Field::AzId.version(), 4);
        assert_eq!(Field::FlowDirection.version(), 5);
        // Later fields are not known, and that is not an error.
        assert_eq!(Field::from_name("ecs-cluster-name"), None);
        assert_eq!(Field::from_name("reject-reason"), None);
    }

    #[test]
    fn every_field_of_the_documented_table_is_known() {
        let doc = include_str!("../../../../tests/fixtures/vpcflow/available-fields.txt");
        let documented: Vec<&str> = doc.split_whitespace().collect();
        assert_eq!(documented.len(), Field::ALL.len());
        for name in documented {
            assert!(Field::from_name(name).is_some(), "{name} is not known");
        }
    }
}
