"""Offline CloudFormation helpers shared by deploy rehearsal (rehearse.py) and the policy lint (policies.py).

- load(): a template with CloudFormation's short tags (!Ref, !Sub, ...) as their long forms.
- check_parameters() / evaluate_rules(): what CloudFormation checks before it creates anything (parameter
  constraints, the Rules section). moto implements neither, so the rehearsal checks them here.
- sam_transform(): AWS::Serverless-2016-10-31 expanded with aws-sam-translator, offline: a fake region,
  account and partition, and a stub for the managed-policy lookup (the only call SAM makes to AWS).
- Resolver: evaluates conditions and intrinsic functions of an expanded template, with resources resolved
  by a callback (the local server's physical IDs, or fake_physical()'s made-up but well-formed ARNs).
- The parameter combinations that both checks exercise (RESPONDER_COMBOS, FORWARDER_COMBOS) and those the
  templates must refuse (RESPONDER_REFUSED, FORWARDER_REFUSED).
"""

from __future__ import annotations

import copy
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

ROOT = Path(__file__).resolve().parents[2]
RESPONDER = ROOT / "infra" / "template.yaml"
FORWARDER = ROOT / "infra" / "region-forwarder.yaml"

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
FORWARDER_REGION = "eu-west-1"


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


# ----------------------------------------------------------------------------------------------------
# Parameter combinations. The ones the README documents (Deploy: First deploy, Log buckets, Parameters),
# plus one that turns on everything else that changes a policy or a pattern.
# ----------------------------------------------------------------------------------------------------
EXISTING_ALARM_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:existing-alarms"
CLOUDTRAIL_BUCKET_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:cloudtrail-bucket-notifications"
FLOWLOGS_BUCKET_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:flowlogs-bucket-notifications"
RESOLVERLOGS_BUCKET_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:resolverlogs-bucket-notifications"
EKSAUDITLOGS_BUCKET_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:eksauditlogs-bucket-notifications"
EXISTING_TOPICS = [
    EXISTING_ALARM_TOPIC,
    CLOUDTRAIL_BUCKET_TOPIC,
    FLOWLOGS_BUCKET_TOPIC,
    RESOLVERLOGS_BUCKET_TOPIC,
    EKSAUDITLOGS_BUCKET_TOPIC,
]
FORWARDER_ALARM_TOPIC = f"arn:aws:sns:{FORWARDER_REGION}:{ACCOUNT}:existing-alarms"
LOG_ARCHIVE_ACCOUNT = "210987654321"
LOG_KEY = f"arn:aws:kms:{REGION}:{LOG_ARCHIVE_ACCOUNT}:key/0f0e0d0c-0b0a-0908-0706-050403020100"

EMAILS = {"NotificationEmail": "oncall@example.com", "AlarmEmail": "alarms@example.com"}
BUCKETS = {
    "CloudTrailBucketName": "example-cloudtrail-logs",
    "FlowLogsBucketName": "example-flow-logs",
    "ResolverLogsBucketName": "example-resolver-logs",
    "EksAuditLogsBucketName": "example-eks-audit-logs",
}


@dataclass
class Combo:
    name: str
    what: str
    params: dict[str, str]
    region: str = REGION
    refused_by: str = ""  # for the refused ones: the rule or parameter that must refuse it

    @property
    def partition(self) -> str:
        return partition_of(self.region)


RESPONDER_COMBOS = [
    Combo("emails", "defaults with NotificationEmail and AlarmEmail", dict(EMAILS)),
    Combo("no-subscriber", "AllowNoSubscriber=true, nothing else", {"AllowNoSubscriber": "true"}),
    Combo("log-buckets", "every log bucket parameter (CloudTrail, flow, Resolver, EKS audit)", {**EMAILS, **BUCKETS}),
    Combo(
        "cloudtrail-api-events", "CloudTrailApiEvents=enabled (no bucket)", {**EMAILS, "CloudTrailApiEvents": "enabled"}
    ),
    Combo(
        "eks-subscription",
        "EksAuditLogsSubscription=enabled (no bucket)",
        {**EMAILS, "EksAuditLogsSubscription": "enabled"},
    ),
    Combo(
        "alarm-topic",
        "NotificationEmail and AlarmTopicArn (an existing topic), no AlarmEmail",
        {"NotificationEmail": EMAILS["NotificationEmail"], "AlarmTopicArn": EXISTING_ALARM_TOPIC},
    ),
    Combo(
        "bucket-topics",
        "the log buckets with their SNS fan-out topics (CloudTrailBucketTopicArn, FlowLogsBucketTopicArn, "
        "ResolverLogsBucketTopicArn, EksAuditLogsBucketTopicArn)",
        {
            **EMAILS,
            **BUCKETS,
            "CloudTrailBucketTopicArn": CLOUDTRAIL_BUCKET_TOPIC,
            "FlowLogsBucketTopicArn": FLOWLOGS_BUCKET_TOPIC,
            "ResolverLogsBucketTopicArn": RESOLVERLOGS_BUCKET_TOPIC,
            "EksAuditLogsBucketTopicArn": EKSAUDITLOGS_BUCKET_TOPIC,
        },
    ),
    Combo(
        "everything-else",
        "extra: MinSeverity=7, ReservedConcurrency=5, the log buckets in a log archive account "
        "with an SSE-KMS key, CloudTrailApiEvents, both alarm destinations, non-default numbers",
        {
            **EMAILS,
            **BUCKETS,
            "AlarmTopicArn": EXISTING_ALARM_TOPIC,
            "MinSeverity": "7",
            "ReservedConcurrency": "5",
            "CloudTrailApiEvents": "enabled",
            "LogBucketsAccountId": LOG_ARCHIVE_ACCOUNT,
            "LogBucketsKmsKeyArn": LOG_KEY,
            "IngestMaximumConcurrency": "10",
            "QuietPeriodHours": "12",
            "RecordTtlDays": "30",
            "LookbackMinutes": "90",
            "MinHistoryDays": "14",
            "AwsTimeoutMs": "5000",
            "LogLevel": "DEBUG",
            "LogRetentionDays": "90",
            "ContextTtlDays": "45",
            "EksAuditLogsClusters": "eks/prod/=prod,eks/cluster=b/=staging_b",
            "EksAuditLogsSubscription": "enabled",
        },
    ),
]

RESPONDER_REFUSED = [
    Combo("all-defaults", "every parameter at its default", {}, refused_by="rule SomeoneReceivesTheNoticesAndAlarms"),
    Combo(
        "no-alarm-destination",
        "NotificationEmail only",
        {"NotificationEmail": EMAILS["NotificationEmail"]},
        refused_by="rule SomeoneReceivesTheNoticesAndAlarms",
    ),
    Combo(
        "no-notice-subscriber",
        "AlarmEmail only",
        {"AlarmEmail": EMAILS["AlarmEmail"]},
        refused_by="rule SomeoneReceivesTheNoticesAndAlarms",
    ),
    Combo(
        "reserved-zero",
        "ReservedConcurrency=0",
        {**EMAILS, "ReservedConcurrency": "0"},
        refused_by="rule ReservedConcurrencyIsNotZero",
    ),
    Combo(
        "cloudtrail-topic-alone",
        "CloudTrailBucketTopicArn without CloudTrailBucketName",
        {**EMAILS, "CloudTrailBucketTopicArn": CLOUDTRAIL_BUCKET_TOPIC},
        refused_by="rule BucketTopicsNeedTheirBuckets",
    ),
    Combo(
        "flowlogs-topic-alone",
        "FlowLogsBucketTopicArn without FlowLogsBucketName",
        {**EMAILS, "FlowLogsBucketTopicArn": FLOWLOGS_BUCKET_TOPIC},
        refused_by="rule BucketTopicsNeedTheirBuckets",
    ),
    Combo(
        "bucket-url",
        "CloudTrailBucketName as an s3:// URL",
        {**EMAILS, "CloudTrailBucketName": "s3://example-logs"},
        refused_by="parameter CloudTrailBucketName",
    ),
    Combo(
        "bucket-arn",
        "FlowLogsBucketName as an ARN",
        {**EMAILS, "FlowLogsBucketName": "arn:aws:s3:::example-logs"},
        refused_by="parameter FlowLogsBucketName",
    ),
    Combo(
        "ingest-concurrency-1",
        "IngestMaximumConcurrency=1",
        {**EMAILS, "IngestMaximumConcurrency": "1"},
        refused_by="parameter IngestMaximumConcurrency",
    ),
    Combo(
        "timeout-too-long", "AwsTimeoutMs=9001", {**EMAILS, "AwsTimeoutMs": "9001"}, refused_by="parameter AwsTimeoutMs"
    ),
    Combo(
        "bad-email",
        "NotificationEmail without @",
        {**EMAILS, "NotificationEmail": "oncall"},
        refused_by="parameter NotificationEmail",
    ),
]

FORWARDER_COMBOS = [
    Combo(
        "forwarder",
        f"ResponderRegion={REGION}, deployed in {FORWARDER_REGION}",
        {"ResponderRegion": REGION},
        region=FORWARDER_REGION,
    ),
    Combo(
        "forwarder-alarms",
        f"with AlarmTopicArn (existing, {FORWARDER_REGION}) and MinSeverity=4",
        {"ResponderRegion": REGION, "AlarmTopicArn": FORWARDER_ALARM_TOPIC, "MinSeverity": "4"},
        region=FORWARDER_REGION,
    ),
]

FORWARDER_REFUSED = [
    Combo(
        "forwarder-own-region",
        "ResponderRegion = the stack's own region",
        {"ResponderRegion": FORWARDER_REGION},
        region=FORWARDER_REGION,
        refused_by="rule NotInTheResponderRegion",
    ),
    Combo(
        "forwarder-china",
        "deployed in cn-north-1 (partition aws-cn)",
        {"ResponderRegion": "cn-northwest-1"},
        region="cn-north-1",
        refused_by="rule CrossRegionForwardingExistsInThisPartition",
    ),
    Combo(
        "forwarder-no-region",
        "ResponderRegion missing",
        {},
        region=FORWARDER_REGION,
        refused_by="parameter ResponderRegion",
    ),
]


# ----------------------------------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------------------------------
class _Loader(yaml.SafeLoader):
    pass


def _short_tag(loader: _Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _short_tag)


def load(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


# ----------------------------------------------------------------------------------------------------
# What CloudFormation checks before creating anything
# ----------------------------------------------------------------------------------------------------
def parameter_values(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, str]:
    """Every parameter's value as CloudFormation hands it over (strings), defaults filled in."""
    out = {}
    for name, spec in (template.get("Parameters") or {}).items():
        if name in overrides:
            out[name] = str(overrides[name])
        elif "Default" in spec:
            default = spec["Default"]
            out[name] = ("true" if default else "false") if isinstance(default, bool) else str(default)
    return out


def check_parameters(template: dict[str, Any], overrides: dict[str, str]) -> list[str]:
    """CloudFormation's parameter constraints; returns the violations (empty: accepted)."""
    errors = []
    specs = template.get("Parameters") or {}
    for name in overrides:
        if name not in specs:
            errors.append(f"{name}: not a parameter of the template")
    values = parameter_values(template, overrides)
    for name, spec in specs.items():
        if name not in values:
            errors.append(f"{name}: no value and no default")
            continue
        value = values[name]
        allowed = [str(v) for v in spec.get("AllowedValues") or []]
        if allowed and value not in allowed:
            errors.append(f"{name}={value!r}: not one of {allowed}")
        if spec.get("Type") == "Number":
            try:
                number = float(value)
            except ValueError:
                errors.append(f"{name}={value!r}: not a number")
                continue
            if "MinValue" in spec and number < float(spec["MinValue"]):
                errors.append(f"{name}={value}: below MinValue {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                errors.append(f"{name}={value}: above MaxValue {spec['MaxValue']}")
        else:
            if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
                errors.append(f"{name}={value!r}: does not match AllowedPattern {spec['AllowedPattern']}")
            if "MinLength" in spec and len(value) < int(spec["MinLength"]):
                errors.append(f"{name}: shorter than MinLength")
            if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
                errors.append(f"{name}: longer than MaxLength")
    return errors


def pseudo_parameters(region: str, account: str = ACCOUNT, stack: str = "rehearsal") -> dict[str, Any]:
    return {
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::Partition": partition_of(region),
        "AWS::URLSuffix": "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com",
        "AWS::StackName": stack,
        "AWS::StackId": f"arn:{partition_of(region)}:cloudformation:{region}:{account}:stack/{stack}/fake",
        "AWS::NotificationARNs": [],
    }


def evaluate_rules(template: dict[str, Any], overrides: dict[str, str], region: str) -> list[str]:
    """The template's Rules section, as CloudFormation evaluates it before creating anything; returns the
    failed assertions as 'Rule: AssertDescription' (empty: the deploy goes ahead)."""
    values: dict[str, Any] = {**parameter_values(template, overrides), **pseudo_parameters(region)}

    def ev(node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return values[arg]
            if key == "Fn::Equals":
                return str(ev(arg[0])) == str(ev(arg[1]))
            if key == "Fn::Not":
                return not ev(arg[0])
            if key == "Fn::And":
                return all(ev(a) for a in arg)
            if key == "Fn::Or":
                return any(ev(a) for a in arg)
            if key == "Fn::Contains":
                return str(ev(arg[1])) in [str(v) for v in ev(arg[0])]
            if key == "Fn::EachMemberEquals":
                return all(str(v) == str(ev(arg[1])) for v in ev(arg[0]))
            if key == "Fn::EachMemberIn":
                return all(str(v) in [str(w) for w in ev(arg[1])] for v in ev(arg[0]))
            if key.startswith("Fn::"):
                raise ValueError(f"rule function {key} not implemented by the rehearsal")
        if isinstance(node, list):
            return [ev(v) for v in node]
        return node

    failed = []
    for name, rule in (template.get("Rules") or {}).items():
        if "RuleCondition" in rule and not ev(rule["RuleCondition"]):
            continue
        for assertion in rule.get("Assertions") or []:
            if not ev(assertion["Assert"]):
                failed.append(f"{name}: {' '.join(str(assertion.get('AssertDescription', '')).split())}")
    return failed


def refusal(template: dict[str, Any], combo: Combo) -> list[str]:
    """Why CloudFormation would refuse this combination before creating anything (empty: it would not)."""
    errors = [f"parameter {e}" for e in check_parameters(template, combo.params)]
    if errors:
        return errors
    return [f"rule {e}" for e in evaluate_rules(template, combo.params, combo.region)]


# ----------------------------------------------------------------------------------------------------
# The SAM transform, offline
# ----------------------------------------------------------------------------------------------------
class StubManagedPolicyLoader:
    """SAM's only AWS call: IAM ListPolicies, to map the names of AWS managed policies in a function's
    `Policies` to ARNs. Every function here has its own `Role`, so SAM should never ask; if it does, the
    names it may ask for get their well-known ARNs, and the lookups are counted for the report."""

    NAMES = (
        "AWSLambdaBasicExecutionRole",
        "AWSLambdaSQSQueueExecutionRole",
        "AWSXRayDaemonWriteAccess",
        "AWSLambdaVPCAccessExecutionRole",
    )

    def __init__(self, partition: str):
        self.partition = partition
        self.lookups = 0

    def load(self) -> dict[str, str]:
        self.lookups += 1
        return {n: f"arn:{self.partition}:iam::aws:policy/service-role/{n}" for n in self.NAMES}


def sam_transform(template: dict[str, Any], combo: Combo, code: tuple[str, str]) -> tuple[dict[str, Any], int]:
    """Expand the SAM template for this combination. Every function's CodeUri (the workspace root, which
    `sam build` would compile and upload) points at the S3 object `code` instead. Returns the expanded
    template and the number of managed-policy lookups SAM made."""
    from samtranslator.translator.transform import transform  # noqa: PLC0415 - only where SAM is needed

    # SAM records metrics for its own service and warns, when the translator is garbage-collected, that
    # nobody published them.
    logging.getLogger("samtranslator.metrics").setLevel(logging.ERROR)

    t = copy.deepcopy(template)
    for res in (t.get("Resources") or {}).values():
        if res.get("Type") == "AWS::Serverless::Function":
            res.setdefault("Properties", {})["CodeUri"] = {"Bucket": code[0], "Key": code[1]}
    # The translator reads the region from boto3's session where a value is not given.
    os.environ["AWS_DEFAULT_REGION"] = combo.region
    os.environ["AWS_REGION"] = combo.region
    loader = StubManagedPolicyLoader(combo.partition)
    values = {**combo.params, "AWS::Region": combo.region, "AWS::AccountId": ACCOUNT, "AWS::Partition": combo.partition}
    expanded = transform(t, values, loader)
    return expanded, loader.lookups


# ----------------------------------------------------------------------------------------------------
# Intrinsic functions
# ----------------------------------------------------------------------------------------------------
class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


class Unresolvable(Exception):
    pass


RefFn = Callable[[str], Any]
GetAttFn = Callable[[str, str], Any]


class Resolver:
    """Conditions and intrinsic functions of a (plain CloudFormation) template. Resources resolve through
    the callbacks: ref(logical_id) and getatt(logical_id, attribute)."""

    def __init__(
        self, template: dict[str, Any], params: dict[str, str], pseudo: dict[str, Any], ref: RefFn, getatt: GetAttFn
    ):
        self.template = template
        self.values = {**parameter_values(template, params), **pseudo}
        self.resources = template.get("Resources") or {}
        self._ref, self._getatt = ref, getatt
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            spec = (self.template.get("Conditions") or {}).get(name)
            if spec is None:
                raise Unresolvable(f"unknown condition {name}")
            self._conditions[name] = bool(self.eval(spec))
        return self._conditions[name]

    def active(self, logical_id: str) -> bool:
        cond = self.resources[logical_id].get("Condition")
        return cond is None or self.condition(cond)

    def active_resources(self, *types: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if (not types or v.get("Type") in types) and self.active(k)}

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.eval(self.resources[logical_id].get("Properties") or {})

    def outputs(self) -> dict[str, Any]:
        out = {}
        for name, spec in (self.template.get("Outputs") or {}).items():
            if "Condition" in spec and not self.condition(spec["Condition"]):
                continue
            out[name] = self.eval(spec["Value"])
        return out

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.values:
            return self.values[name]
        if name in self.resources:
            if not self.active(name):
                raise Unresolvable(f"Ref to {name}, whose condition is false")
            return self._ref(name)
        raise Unresolvable(f"Ref to unknown {name}")

    def getatt(self, name: str, attr: str) -> Any:
        if name not in self.resources:
            raise Unresolvable(f"GetAtt of unknown {name}")
        if not self.active(name):
            raise Unresolvable(f"GetAtt of {name}, whose condition is false")
        return self._getatt(name, attr)

    def sub(self, text: str, local: dict[str, Any]) -> str:
        def one(m: re.Match[str]) -> str:
            expr = m.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"
            if expr in local:
                return str(local[expr])
            if "." in expr and expr.split(".", 1)[0] in self.resources:
                res, attr = expr.split(".", 1)
                return str(self.getatt(res, attr))
            return str(self.ref(expr))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def eval(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.eval(x) for x in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg)
            if key == "Fn::GetAtt":
                res, attr = arg.split(".", 1) if isinstance(arg, str) else arg
                return self.getatt(res, self.eval(attr))
            if key == "Fn::Sub":
                if isinstance(arg, str):
                    return self.sub(arg, {})
                return self.sub(arg[0], {k: self.eval(v) for k, v in arg[1].items()})
            if key == "Fn::Join":
                return str(arg[0]).join(str(v) for v in self.eval(arg[1]))
            if key == "Fn::If":
                return self.eval(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::Equals":
                return str(self.eval(arg[0])) == str(self.eval(arg[1]))
            if key == "Fn::Not":
                return not self.eval(arg[0])
            if key == "Fn::And":
                return all(self.eval(a) for a in arg)
            if key == "Fn::Or":
                return any(self.eval(a) for a in arg)
            if key == "Fn::Select":
                return self.eval(arg[1])[int(self.eval(arg[0]))]
            if key == "Fn::Split":
                return str(self.eval(arg[1])).split(arg[0])
            if key.startswith("Fn::"):
                raise Unresolvable(f"{key} not implemented")
        out = {}
        for k, v in node.items():
            value = self.eval(v)
            if value is not NO_VALUE:
                out[k] = value
        return out


# ----------------------------------------------------------------------------------------------------
# Made-up physical resources (well-formed names and ARNs) for resolving a template without a server
# ----------------------------------------------------------------------------------------------------
NAME_PROPERTY = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Events::Rule": "Name",
}


def fake_physical(template: dict[str, Any], region: str, stack: str) -> tuple[RefFn, GetAttFn]:
    part = partition_of(region)
    resources = template.get("Resources") or {}
    resolver_box: list[Resolver] = []

    def name_of(logical: str) -> str:
        res = resources[logical]
        prop = NAME_PROPERTY.get(res.get("Type", ""))
        if prop and prop in (res.get("Properties") or {}):
            return str(resolver_box[0].eval(res["Properties"][prop]))
        return f"{stack}-{logical}-FAKE0123"

    def attrs(logical: str) -> dict[str, str]:
        typ = resources[logical].get("Type")
        name = name_of(logical)
        if typ == "AWS::SQS::Queue":
            url = f"https://sqs.{region}.amazonaws.com/{ACCOUNT}/{name}"
            return {"Ref": url, "Arn": f"arn:{part}:sqs:{region}:{ACCOUNT}:{name}", "QueueName": name, "QueueUrl": url}
        if typ == "AWS::SNS::Topic":
            arn = f"arn:{part}:sns:{region}:{ACCOUNT}:{name}"
            return {"Ref": arn, "TopicArn": arn, "TopicName": name}
        if typ == "AWS::IAM::Role":
            return {"Ref": name, "Arn": f"arn:{part}:iam::{ACCOUNT}:role/{name}", "RoleId": "AROAFAKE"}
        if typ == "AWS::Lambda::Function":
            return {"Ref": name, "Arn": f"arn:{part}:lambda:{region}:{ACCOUNT}:function:{name}"}
        if typ == "AWS::DynamoDB::Table":
            return {"Ref": name, "Arn": f"arn:{part}:dynamodb:{region}:{ACCOUNT}:table/{name}"}
        if typ == "AWS::KMS::Key":
            key_id = "00000000-1111-2222-3333-444444444444"
            return {"Ref": key_id, "KeyId": key_id, "Arn": f"arn:{part}:kms:{region}:{ACCOUNT}:key/{key_id}"}
        if typ == "AWS::Logs::LogGroup":
            return {"Ref": name, "Arn": f"arn:{part}:logs:{region}:{ACCOUNT}:log-group:{name}:*"}
        if typ == "AWS::Events::Rule":
            return {"Ref": name, "Arn": f"arn:{part}:events:{region}:{ACCOUNT}:rule/{name}"}
        return {"Ref": name}

    def ref(logical: str) -> str:
        return attrs(logical)["Ref"]

    def getatt(logical: str, attr: str) -> str:
        values = attrs(logical)
        if attr not in values:
            raise Unresolvable(f"GetAtt {logical}.{attr}: no made-up value for {resources[logical].get('Type')}")
        return values[attr]

    def bind(resolver: Resolver) -> None:
        resolver_box.append(resolver)

    ref.bind = bind  # type: ignore[attr-defined]
    return ref, getatt


def offline_resolver(template: dict[str, Any], combo: Combo, stack: str = "rehearsal") -> Resolver:
    """A resolver whose resources are made up (fake_physical)."""
    ref, getatt = fake_physical(template, combo.region, stack)
    resolver = Resolver(template, combo.params, pseudo_parameters(combo.region, stack=stack), ref, getatt)
    ref.bind(resolver)  # type: ignore[attr-defined]
    return resolver


@dataclass
class Expanded:
    combo: Combo
    template: dict[str, Any]
    lookups: int = 0
    notes: list[str] = field(default_factory=list)
