#!/usr/bin/env python3
"""Deploy rehearsal without AWS: run by scripts/deploy-rehearsal.sh against a moto server of its own.

For each parameter combination of cfn.py: expand infra/template.yaml with the SAM translator, create the
expanded stack in moto's CloudFormation, check what it created through the AWS APIs of the server, check
from the expanded template (resolved against the created stack) what moto's CloudFormation does not create,
replay one finding through the created table and topic with triage-cli, and delete the stack. The same for
infra/region-forwarder.yaml. Before that, the combinations the templates must refuse (Rules, parameter
constraints), which moto does not evaluate.

Function code is NOT rehearsed: every function's code is a placeholder zip in a moto bucket (moto never
runs it). The code is tested by the workspace tests; `sam build` (scripts/check-infra.sh) builds it.

Each check prints one line, tagged with where its answer comes from:
  [cfn]    what CloudFormation checks before creating anything (Rules, parameter constraints), evaluated here
  [sam]    the expanded template itself
  [api]    the local server's AWS APIs, on what moto's CloudFormation created
  [tmpl]   a resource moto's CloudFormation does not create: its properties from the expanded template,
           resolved against the created stack (every name/ARN it refers to must exist on the server)
  [replay] triage-cli against the created table and topic
The last line is 'rehearsal: N passed, M failed'; the exit code is 1 when anything failed.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import subprocess
import sys
import time
import traceback
import zipfile
from pathlib import Path
from typing import Any, Callable

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cfn  # noqa: E402

CODE_BUCKET = "guardduty-triage-rehearsal-code"
CODE_KEY = "placeholder.zip"

# Resource types of the expanded templates that moto 5.2.5's CloudFormation does not create (it skips them
# with a warning). They are checked from the expanded template instead ([tmpl]). Any other resource missing
# from a created stack fails the rehearsal.
MOTO_NOT_CREATED = {
    "AWS::SNS::Subscription": "SNS subscriptions",
    "AWS::SNS::TopicPolicy": "SNS topic policies",
    "AWS::SQS::QueuePolicy": "SQS queue policies",
    "AWS::Lambda::EventInvokeConfig": "Lambda asynchronous invocation configs (retries, on-failure destination)",
    "AWS::CloudWatch::Alarm": "CloudWatch alarms",
}
# Properties moto's CloudFormation accepts but drops (checked from the expanded template instead, [sam]).
MOTO_DROPPED = [
    "AWS::Lambda::Function: Architectures (moto reports x86_64), LoggingConfig",
    "AWS::DynamoDB::Table: TimeToLiveSpecification (moto reports TTL DISABLED), PointInTimeRecoverySpecification, "
    "SSESpecification",
    "AWS::Logs::LogGroup: KmsKeyId",
    "AWS::IAM::Role inline Policies: stored as a Python repr (read back with ast.literal_eval)",
    "EventBridge TestEventPattern is a no-op in moto: the rules' patterns, read back through DescribeRule, are "
    "matched with moto's own EventBridge matcher (the one its PutEvents uses)",
]
# Bugs of moto's CloudFormation fixed in infra/rehearsal/moto_server.py (CloudFormation's documented behaviour).
MOTO_PATCHED = [
    'Number parameters reach Ref as strings (moto: numbers, so `!Equals [!Ref MinSeverity, "0"]` was false)',
    "AWS::KMS::Key KeyPolicy as a JSON object is stored as JSON text (moto: DescribeKey then fails with a 500)",
    "AWS::Events::Rule EventPattern as a JSON string is not JSON-encoded twice (moto: PutRule fails)",
    "`!If [..., !Ref AWS::NoValue]` in a list removes the element (moto: leaves a null)",
    "`!GetAtt LogGroup.Arn` ends in `:*` (moto: without it)",
]


# ----------------------------------------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------------------------------------
class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []
        self.prefix = ""

    def section(self, title: str) -> None:
        print(f"\n=== {title}", flush=True)

    def ok(self, tag: str, label: str, cond: bool, detail: str = "") -> bool:
        line = f"[{tag}] {self.prefix}{label}"
        if cond:
            self.passed += 1
            print(f"  ok    {line}", flush=True)
        else:
            self.failed.append(f"{line}{': ' + detail if detail else ''}")
            print(f"  FAIL  {line}{': ' + detail if detail else ''}", flush=True)
        return cond

    def eq(self, tag: str, label: str, actual: Any, expected: Any) -> bool:
        return self.ok(tag, label, actual == expected, f"expected {expected!r}, got {actual!r}")

    def guard(self, tag: str, label: str, fn: Callable[[], Any]) -> Any:
        """Run fn; an exception is a failed check (and the rest of the caller goes on)."""
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - every error is a finding here
            self.ok(tag, label, False, f"{type(e).__name__}: {e}")
            if os.environ.get("REHEARSAL_DEBUG"):
                traceback.print_exc()
            return None


R = Report()


# ----------------------------------------------------------------------------------------------------
# The server
# ----------------------------------------------------------------------------------------------------
class Aws:
    def __init__(self, endpoint: str, region: str):
        cfg = Config(retries={"max_attempts": 2}, read_timeout=60)
        self.region = region
        self.c = {
            n: boto3.client(n, endpoint_url=endpoint, region_name=region, config=cfg)
            for n in ("cloudformation", "s3", "sns", "sqs", "lambda", "events", "iam", "kms", "logs", "dynamodb")
        }

    def __getattr__(self, name: str) -> Any:
        return self.c[name]


def placeholder_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(
            "bootstrap", "#!/bin/sh\necho 'deploy rehearsal placeholder: function code is not rehearsed' >&2\nexit 1\n"
        )
    return buf.getvalue()


def setup(aws: dict[str, Aws]) -> None:
    east = aws[cfn.REGION]
    east.s3.create_bucket(Bucket=CODE_BUCKET)
    east.s3.put_object(Bucket=CODE_BUCKET, Key=CODE_KEY, Body=placeholder_zip())
    for arn in cfn.EXISTING_TOPICS:
        east.sns.create_topic(Name=arn.rsplit(":", 1)[1])
    aws[cfn.FORWARDER_REGION].sns.create_topic(Name=cfn.FORWARDER_ALARM_TOPIC.rsplit(":", 1)[1])


# ----------------------------------------------------------------------------------------------------
# A created stack: physical IDs from CloudFormation, attributes from the services' APIs
# ----------------------------------------------------------------------------------------------------
class Stack:
    def __init__(self, aws: Aws, name: str, expanded: dict[str, Any], combo: cfn.Combo):
        self.aws, self.name, self.template, self.combo = aws, name, expanded, combo
        resources = aws.cloudformation.describe_stack_resources(StackName=name)["StackResources"]
        # moto lists the resources it did not create without a logical ID; AWS::Lambda::Permission without a
        # physical ID.
        self.physical = {
            r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in resources if r.get("LogicalResourceId")
        }
        self._attr_cache: dict[tuple[str, str], Any] = {}
        self.resolver = cfn.Resolver(
            expanded, combo.params, cfn.pseudo_parameters(combo.region, stack=name), self.ref, self.getatt
        )

    def ref(self, logical: str) -> str:
        if logical not in self.physical:
            raise cfn.Unresolvable(f"Ref {logical}: not created by the stack")
        return self.physical[logical]

    def getatt(self, logical: str, attr: str) -> Any:
        key = (logical, attr)
        if key not in self._attr_cache:
            self._attr_cache[key] = self._getatt(logical, attr)
        return self._attr_cache[key]

    def _getatt(self, logical: str, attr: str) -> Any:
        p = self.ref(logical)
        typ = self.template["Resources"][logical]["Type"]
        a = self.aws
        if typ == "AWS::SQS::Queue":
            if attr == "Arn":
                return a.sqs.get_queue_attributes(QueueUrl=p, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            if attr == "QueueName":
                return p.rstrip("/").rsplit("/", 1)[1]
        if typ == "AWS::IAM::Role" and attr == "Arn":
            return a.iam.get_role(RoleName=p)["Role"]["Arn"]
        if typ == "AWS::Lambda::Function" and attr == "Arn":
            return a.c["lambda"].get_function(FunctionName=p)["Configuration"]["FunctionArn"]
        if typ == "AWS::DynamoDB::Table" and attr == "Arn":
            return a.dynamodb.describe_table(TableName=p)["Table"]["TableArn"]
        if typ == "AWS::KMS::Key" and attr == "Arn":
            return a.kms.describe_key(KeyId=p)["KeyMetadata"]["Arn"]
        if typ == "AWS::Events::Rule" and attr == "Arn":
            return a.events.describe_rule(Name=p)["Arn"]
        if typ == "AWS::Logs::LogGroup" and attr == "Arn":
            groups = a.logs.describe_log_groups(logGroupNamePrefix=p)["logGroups"]
            arn = next(g["arn"] for g in groups if g["logGroupName"] == p)
            # CloudFormation's GetAtt Arn of a log group ends in ':*' (the form IAM policies need).
            return arn if arn.endswith(":*") else arn + ":*"
        if typ == "AWS::SNS::Topic" and attr == "TopicName":
            return p.rsplit(":", 1)[1]
        raise cfn.Unresolvable(f"GetAtt {logical}.{attr} ({typ}): not looked up by the rehearsal")

    def props(self, logical: str) -> dict[str, Any]:
        return self.resolver.properties(logical)

    def active(self, *types: str) -> list[str]:
        return list(self.resolver.active_resources(*types))


# ----------------------------------------------------------------------------------------------------
# Helpers for checks
# ----------------------------------------------------------------------------------------------------
def queue_exists(aws: Aws, arn: str) -> bool:
    name = arn.rsplit(":", 1)[1]
    try:
        url = aws.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"] == arn
    except aws.sqs.exceptions.QueueDoesNotExist:
        return False


def topic_exists(aws: Aws, arn: str) -> bool:
    try:
        aws.sns.get_topic_attributes(TopicArn=arn)
        return True
    except Exception:  # noqa: BLE001
        return False


def document(doc: Any) -> dict[str, Any]:
    """A policy document as IAM returns it: JSON text or, through boto3, already parsed. moto stores the
    inline `Policies` of an AWS::IAM::Role created by CloudFormation as a Python repr (single quotes)."""
    if isinstance(doc, dict):
        return doc
    try:
        return json.loads(doc)
    except json.JSONDecodeError:
        return ast.literal_eval(doc)


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    s = policy.get("Statement") or []
    return s if isinstance(s, list) else [s]


def as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def pattern_of(raw: str | dict[str, Any]) -> dict[str, Any]:
    return json.loads(raw) if isinstance(raw, str) else raw


def matches(pattern: str, path: Path, severity: float) -> bool:
    """Does the pattern match the finding of `path` at this severity? moto's TestEventPattern answers nothing,
    so this asks moto's EventBridge matcher directly (the one its PutEvents uses)."""
    from moto.events.models import EventPattern  # noqa: PLC0415

    return bool(EventPattern.load(pattern).matches_event(json.loads(finding_event(path, severity=severity))))


def finding_event(path: Path, **detail: Any) -> str:
    event = json.loads(path.read_text())
    event.setdefault("id", "00000000-0000-0000-0000-000000000000")
    event.setdefault("account", cfn.ACCOUNT)
    event.setdefault("region", cfn.REGION)
    event.setdefault("time", "2026-11-01T00:00:00Z")
    event.setdefault("resources", [])
    event["detail"] = {**event["detail"], **detail}
    return json.dumps(event)


# ----------------------------------------------------------------------------------------------------
# Before anything is created: what CloudFormation would refuse
# ----------------------------------------------------------------------------------------------------
def check_refusals(responder: dict[str, Any], forwarder: dict[str, Any]) -> None:
    R.section("Before anything is created: parameter constraints and the Rules section (moto evaluates neither)")
    for template, file, combos, refused in (
        (responder, "template.yaml", cfn.RESPONDER_COMBOS, cfn.RESPONDER_REFUSED),
        (forwarder, "region-forwarder.yaml", cfn.FORWARDER_COMBOS, cfn.FORWARDER_REFUSED),
    ):
        for combo in combos:
            why = cfn.refusal(template, combo)
            R.ok("cfn", f"{file} {combo.name} ({combo.what}): accepted", not why, "; ".join(why))
        for combo in refused:
            why = cfn.refusal(template, combo)
            R.ok(
                "cfn",
                f"{file} {combo.what}: refused by {combo.refused_by}",
                any(w.startswith(combo.refused_by) for w in why),
                f"refusals: {why or 'none'}",
            )


# ----------------------------------------------------------------------------------------------------
# The expanded template, before it is created
# ----------------------------------------------------------------------------------------------------
def check_expanded(expanded: dict[str, Any], lookups: int, combo: cfn.Combo) -> None:
    R.ok(
        "sam",
        "SAM made no managed-policy lookup (every function has its own Role)",
        lookups == 0,
        f"{lookups} lookup(s)",
    )
    left = [k for k, v in expanded["Resources"].items() if str(v.get("Type", "")).startswith("AWS::Serverless::")]
    R.ok(
        "sam", "no AWS::Serverless::* resource left, no Transform", not left and "Transform" not in expanded, str(left)
    )
    resolver = cfn.offline_resolver(expanded, combo)
    functions = resolver.active_resources("AWS::Lambda::Function")
    for name in functions:
        p = resolver.properties(name)
        R.eq("sam", f"{name} Architectures (moto drops it)", p.get("Architectures"), ["arm64"])
        R.eq("sam", f"{name} Runtime/Handler", (p.get("Runtime"), p.get("Handler")), ("provided.al2023", "bootstrap"))
        R.eq("sam", f"{name} Code is the placeholder", p.get("Code"), {"S3Bucket": CODE_BUCKET, "S3Key": CODE_KEY})
        log_cfg = p.get("LoggingConfig") or {}
        log_group = expanded["Resources"][name]["Properties"]["LoggingConfig"].get("LogGroup")
        R.ok(
            "sam",
            f"{name} LoggingConfig JSON at {resolver.values['LogLevel']}, its own log group (moto drops it)",
            log_cfg.get("LogFormat") == "JSON"
            and log_cfg.get("ApplicationLogLevel") == resolver.values["LogLevel"]
            and isinstance(log_group, dict)
            and "Ref" in log_group
            and expanded["Resources"][log_group["Ref"]]["Type"] == "AWS::Logs::LogGroup",
            json.dumps(log_cfg),
        )
    table = resolver.properties("TriageTable")
    R.eq(
        "sam",
        "TriageTable TTL on expires_at (moto drops it)",
        table.get("TimeToLiveSpecification"),
        {"AttributeName": "expires_at", "Enabled": True},
    )
    R.ok(
        "sam",
        "TriageTable point-in-time recovery and KMS encryption with TriageKey (not checked through moto)",
        table.get("PointInTimeRecoverySpecification") == {"PointInTimeRecoveryEnabled": True}
        and table.get("SSESpecification", {}).get("SSEType") == "KMS"
        and table["SSESpecification"].get("KMSMasterKeyId") == resolver.getatt("TriageKey", "Arn"),
        json.dumps(table.get("SSESpecification")),
    )


def create(aws: Aws, name: str, template: dict[str, Any], combo: cfn.Combo) -> bool:
    aws.cloudformation.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in combo.params.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    status, reason = "", ""
    for _ in range(120):
        stack = aws.cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        status, reason = stack["StackStatus"], stack.get("StackStatusReason", "")
        if not status.endswith("IN_PROGRESS"):
            break
        time.sleep(0.5)
    return R.eq("api", f"stack {name} created", status + (f" ({reason})" if reason else ""), "CREATE_COMPLETE")


def check_created(stack: Stack) -> None:
    expected = stack.active()
    missing = [k for k in expected if k not in stack.physical]
    not_ours = [k for k in missing if stack.template["Resources"][k]["Type"] not in MOTO_NOT_CREATED]
    extra = [k for k in stack.physical if k not in expected]
    R.ok(
        "api",
        f"{len(expected) - len(missing)} resources created, the {len(missing)} left are of types moto does "
        "not create (checked as [tmpl])",
        not not_ours and not extra,
        f"missing {not_ours}, unexpected {extra}",
    )


# ----------------------------------------------------------------------------------------------------
# The responder
# ----------------------------------------------------------------------------------------------------
def check_rule(stack: Stack, logical: str, function: str, dlq: str, event: Path) -> None:
    a = stack.aws
    rule_name = stack.ref(logical)
    rule = a.events.describe_rule(Name=rule_name)
    R.eq("api", f"{logical} state", rule.get("State"), "ENABLED")
    pattern = pattern_of(rule["EventPattern"])
    min_sev = stack.resolver.values.get("MinSeverity", "0")
    if logical == "FindingsRule":
        want: dict[str, Any] = {"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"]}
        if min_sev != "0":
            want["detail"] = {"severity": [{"numeric": [">=", int(min_sev)]}]}
        R.eq(
            "api",
            f"{logical} pattern" + (f" (severity >= {min_sev}, a JSON number)" if min_sev != "0" else ""),
            pattern,
            want,
        )
        R.ok("api", f"{logical} matches {event.name} (severity 8)", matches(rule["EventPattern"], event, 8.0))
        R.eq(
            "api",
            f"{logical} matches the same finding at severity 2",
            matches(rule["EventPattern"], event, 2.0),
            min_sev == "0" or float(min_sev) <= 2,
        )
    else:
        R.eq(
            "api",
            f"{logical} pattern",
            pattern,
            {
                "source": [{"prefix": "aws."}],
                "detail-type": [
                    "AWS API Call via CloudTrail",
                    "AWS Console Sign In via CloudTrail",
                    "AWS Console Signin via CloudTrail",
                ],
                "detail": {"eventCategory": ["Management"]},
            },
        )
    targets = a.events.list_targets_by_rule(Rule=rule_name)["Targets"]
    R.eq("api", f"{logical} has one target", len(targets), 1)
    if targets:
        t = targets[0]
        R.eq("api", f"{logical} target is {function}", t.get("Arn"), stack.getatt(function, "Arn"))
        R.eq(
            "api",
            f"{logical} target retries 185 times over 24 h",
            t.get("RetryPolicy"),
            {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
        )
        R.eq(
            "api",
            f"{logical} target dead-letter queue is {dlq}",
            (t.get("DeadLetterConfig") or {}).get("Arn"),
            stack.getatt(dlq, "Arn"),
        )
    # The invoke permission: in the function's resource policy.
    policy = json.loads(a.c["lambda"].get_policy(FunctionName=stack.ref(function))["Policy"])
    rule_arn = stack.getatt(logical, "Arn")
    allowed = [
        s
        for s in statements(policy)
        if s.get("Principal", {}).get("Service") == "events.amazonaws.com"
        and json.dumps(s.get("Condition", {})).find(rule_arn) >= 0
    ]
    R.ok(
        "api",
        f"{function} resource policy lets {logical} (events.amazonaws.com, SourceArn, SourceAccount) invoke it",
        len(allowed) == 1
        and allowed[0].get("Action") == "lambda:InvokeFunction"
        and cfn.ACCOUNT in json.dumps(allowed[0].get("Condition")),
        json.dumps(statements(policy)),
    )


def check_table(stack: Stack) -> None:
    a = stack.aws
    table = a.dynamodb.describe_table(TableName=stack.ref("TriageTable"))["Table"]
    R.eq(
        "api",
        "TriageTable keys",
        sorted((k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]),
        [("pk", "HASH"), ("sk", "RANGE")],
    )
    R.eq(
        "api",
        "TriageTable key types",
        sorted((d["AttributeName"], d["AttributeType"]) for d in table["AttributeDefinitions"]),
        [("pk", "S"), ("sk", "S")],
    )
    R.ok(
        "api",
        "TriageTable has no secondary index",
        not table.get("GlobalSecondaryIndexes") and not table.get("LocalSecondaryIndexes"),
    )
    R.eq("api", "TriageTable on demand", (table.get("BillingModeSummary") or {}).get("BillingMode"), "PAY_PER_REQUEST")
    ttl = a.dynamodb.describe_time_to_live(TableName=stack.ref("TriageTable"))["TimeToLiveDescription"]
    R.ok(
        "api",
        f"TriageTable TTL: moto reports {ttl.get('TimeToLiveStatus')} (its CloudFormation drops "
        "TimeToLiveSpecification; checked as [sam])",
        True,
    )


def check_queues(stack: Stack) -> None:
    a = stack.aws
    key_arn = stack.getatt("TriageKey", "Arn")
    fn_timeout = {}
    for fn in stack.active("AWS::Lambda::Function"):
        fn_timeout[fn] = a.c["lambda"].get_function_configuration(FunctionName=stack.ref(fn))["Timeout"]
    mappings = {m: stack.props(m) for m in stack.active("AWS::Lambda::EventSourceMapping")}
    for q in stack.active("AWS::SQS::Queue"):
        attrs = a.sqs.get_queue_attributes(QueueUrl=stack.ref(q), AttributeNames=["All"])["Attributes"]
        R.eq("api", f"{q} encrypted with TriageKey", attrs.get("KmsMasterKeyId"), key_arn)
        redrive = json.loads(attrs["RedrivePolicy"]) if "RedrivePolicy" in attrs else None
        if q.endswith("NotificationsQueue"):
            dlq = q.replace("Queue", "DeadLetterQueue")
            R.eq(
                "api",
                f"{q} redrives to {dlq} on the 5th receive",
                redrive and (redrive.get("deadLetterTargetArn"), int(redrive.get("maxReceiveCount"))),
                (stack.getatt(dlq, "Arn"), 5),
            )
            R.eq("api", f"{q} keeps messages 4 days", attrs.get("MessageRetentionPeriod"), "345600")
            consumers = [(m, p) for m, p in mappings.items() if p.get("EventSourceArn") == stack.getatt(q, "Arn")]
            if R.eq("api", f"{q} has one consumer (event source mapping)", len(consumers), 1):
                m, p = consumers[0]
                fn = next(f for f in fn_timeout if stack.ref(f) in str(p.get("FunctionName")))
                window = int(p.get("MaximumBatchingWindowInSeconds") or 0)
                need = 6 * fn_timeout[fn] + window
                R.ok(
                    "api",
                    f"{q} visibility timeout {attrs.get('VisibilityTimeout')} s >= 6 x {fn} timeout "
                    f"({fn_timeout[fn]} s) + batching window ({window} s)",
                    int(attrs["VisibilityTimeout"]) >= need,
                    f"needs {need}",
                )
        else:
            R.ok("api", f"{q} has no redrive policy (it is a last stop)", redrive is None, str(redrive))
            R.eq("api", f"{q} keeps messages 14 days", attrs.get("MessageRetentionPeriod"), "1209600")


def check_mappings(stack: Stack) -> None:
    a = stack.aws
    concurrency = int(stack.resolver.values["IngestMaximumConcurrency"])
    for m in stack.active("AWS::Lambda::EventSourceMapping"):
        uuid = stack.ref(m)
        esm = a.c["lambda"].get_event_source_mapping(UUID=uuid)
        p = stack.props(m)
        R.eq("api", f"{m} source queue", esm.get("EventSourceArn"), p["EventSourceArn"])
        R.eq(
            "api",
            f"{m} batches of 10 within 30 s, partial batch failures",
            (esm.get("BatchSize"), esm.get("MaximumBatchingWindowInSeconds"), esm.get("FunctionResponseTypes")),
            (10, 30, ["ReportBatchItemFailures"]),
        )
        R.eq(
            "api",
            f"{m} MaximumConcurrency = IngestMaximumConcurrency",
            int((esm.get("ScalingConfig") or {}).get("MaximumConcurrency", -1)),
            concurrency,
        )


def check_functions(stack: Stack) -> None:
    a = stack.aws
    v = stack.resolver.values
    table = stack.ref("TriageTable")
    expect = {
        "TriageFunction": (
            512,
            30,
            {
                "TRIAGE_TABLE_NAME": table,
                "TRIAGE_TOPIC_ARN": stack.ref("NoticesTopic"),
                "TRIAGE_QUIET_PERIOD_HOURS": v["QuietPeriodHours"],
                "TRIAGE_RECORD_TTL_DAYS": v["RecordTtlDays"],
                "TRIAGE_LOOKBACK_MINUTES": v["LookbackMinutes"],
                "TRIAGE_MIN_HISTORY_DAYS": v["MinHistoryDays"],
                "TRIAGE_AWS_TIMEOUT_MS": v["AwsTimeoutMs"],
            },
        ),
        "CloudTrailIngestFunction": (
            1024,
            60,
            {
                "TRIAGE_TABLE_NAME": table,
                "TRIAGE_CONTEXT_TTL_DAYS": v["ContextTtlDays"],
                "TRIAGE_AWS_TIMEOUT_MS": v["AwsTimeoutMs"],
                "TRIAGE_CLOUDTRAIL_MAX_LIVE_AGGREGATES": "100000",
            },
        ),
        "FlowLogsIngestFunction": (
            1024,
            300,
            {
                "TRIAGE_TABLE_NAME": table,
                "TRIAGE_CONTEXT_TTL_DAYS": v["ContextTtlDays"],
                "TRIAGE_AWS_TIMEOUT_MS": v["AwsTimeoutMs"],
                "TRIAGE_FLOW_MAX_LIVE_AGGREGATES": "262144",
            },
        ),
        "ResolverLogsIngestFunction": (
            1024,
            300,
            {
                "TRIAGE_TABLE_NAME": table,
                "TRIAGE_CONTEXT_TTL_DAYS": v["ContextTtlDays"],
                "TRIAGE_AWS_TIMEOUT_MS": v["AwsTimeoutMs"],
                "TRIAGE_RESOLVER_MAX_TEXT_MB": "1024",
                "TRIAGE_RESOLVER_MAX_LIVE_AGGREGATES": "262144",
            },
        ),
        "EksAuditLogsIngestFunction": (
            1024,
            300,
            {
                "TRIAGE_TABLE_NAME": table,
                "TRIAGE_CONTEXT_TTL_DAYS": v["ContextTtlDays"],
                "TRIAGE_AWS_TIMEOUT_MS": v["AwsTimeoutMs"],
                "TRIAGE_EKS_MAX_TEXT_MB": "1024",
                "TRIAGE_EKS_MAX_LIVE_AGGREGATES": "16384",
                "TRIAGE_EKS_CLUSTERS": v["EksAuditLogsClusters"],
            },
        ),
    }
    present = stack.active("AWS::Lambda::Function")
    want_present = ["TriageFunction"]
    if stack.resolver.condition("HasCloudTrailIngest"):
        want_present.append("CloudTrailIngestFunction")
    if stack.resolver.condition("HasFlowLogsBucket"):
        want_present.append("FlowLogsIngestFunction")
    if stack.resolver.condition("HasResolverLogsBucket"):
        want_present.append("ResolverLogsIngestFunction")
    if stack.resolver.condition("HasEksIngest"):
        want_present.append("EksAuditLogsIngestFunction")
    R.eq(
        "api", "functions of this combination", sorted(k for k in present if k in stack.physical), sorted(want_present)
    )
    for fn in present:
        if fn not in stack.physical:
            continue
        conf = a.c["lambda"].get_function_configuration(FunctionName=stack.ref(fn))
        memory, timeout, env = expect[fn]
        R.eq("api", f"{fn} memory and timeout", (conf.get("MemorySize"), conf.get("Timeout")), (memory, timeout))
        R.eq("api", f"{fn} environment", (conf.get("Environment") or {}).get("Variables"), env)
        R.eq("api", f"{fn} role", conf.get("Role"), stack.getatt(f"{fn}Role", "Arn"))
        R.ok(
            "api",
            f"{fn} architecture: moto reports {conf.get('Architectures')} (dropped by its CloudFormation; "
            "arm64 checked as [sam])",
            True,
        )
        if fn == "TriageFunction":
            reserved = (
                a.c["lambda"].get_function_concurrency(FunctionName=stack.ref(fn)).get("ReservedConcurrentExecutions")
            )
            want = None if v["ReservedConcurrency"] == "-1" else int(v["ReservedConcurrency"])
            R.eq("api", f"{fn} reserved concurrency (ReservedConcurrency={v['ReservedConcurrency']})", reserved, want)
        # The role: trusted by Lambda only, with the stack's inline policy naming this stack's resources.
        role = a.iam.get_role(RoleName=stack.ref(f"{fn}Role"))["Role"]
        trust = document(role["AssumeRolePolicyDocument"])
        R.eq(
            "api",
            f"{fn}Role trusted by lambda.amazonaws.com only",
            [(s.get("Effect"), s.get("Principal"), s.get("Action")) for s in statements(trust)],
            [("Allow", {"Service": "lambda.amazonaws.com"}, "sts:AssumeRole")],
        )
        policy_logical = f"{fn}Policy"
        policy_name = stack.props(policy_logical)["PolicyName"]
        doc = document(a.iam.get_role_policy(RoleName=stack.ref(f"{fn}Role"), PolicyName=policy_name)["PolicyDocument"])
        R.eq(
            "api",
            f"{fn}Role policy {policy_name} as the template resolves it",
            doc,
            stack.props(policy_logical)["PolicyDocument"],
        )
        resources = sorted({r for s in statements(doc) for r in as_list(s.get("Resource"))})
        # Wildcards only where a resource type needs one: a log group's streams (`:*`) and one bucket's objects.
        R.ok(
            "api",
            f"{fn}Role policy names no wildcard resource (but the log group's streams, the bucket's objects)",
            all(
                "*" not in r.removesuffix(":*")
                or (r.startswith("arn:aws:s3:::") and r.endswith("/*") and "*" not in r[:-2])
                for r in resources
            ),
            str(resources),
        )
        # Log group of the function (LoggingConfig names it; moto drops LoggingConfig, so check the group itself).
        group = stack.ref(f"{fn.replace('Function', '')}LogGroup")
        logs = [
            g for g in a.logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] if g["logGroupName"] == group
        ]
        if R.eq("api", f"{fn} log group {group}", len(logs), 1):
            R.eq("api", f"{fn} log group retention", str(logs[0].get("retentionInDays")), v["LogRetentionDays"])
            R.eq(
                "tmpl",
                f"{fn} log group encrypted with TriageKey (moto drops KmsKeyId)",
                stack.props(f"{fn.replace('Function', '')}LogGroup").get("KmsKeyId"),
                stack.getatt("TriageKey", "Arn"),
            )


def check_key_and_topics(stack: Stack) -> None:
    a = stack.aws
    key_id = stack.ref("TriageKey")
    meta = a.kms.describe_key(KeyId=key_id)["KeyMetadata"]
    R.eq(
        "api",
        "TriageKey enabled, symmetric",
        (meta.get("KeyState"), meta.get("KeySpec")),
        ("Enabled", "SYMMETRIC_DEFAULT"),
    )
    R.ok(
        "api",
        "TriageKey rotation enabled",
        a.kms.get_key_rotation_status(KeyId=key_id).get("KeyRotationEnabled") is True,
    )
    policy = json.loads(a.kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    R.eq("api", "TriageKey policy as the template resolves it", policy, stack.props("TriageKey")["KeyPolicy"])
    role_arn = stack.getatt("TriageFunctionRole", "Arn")
    R.ok(
        "api",
        "TriageKey policy picks the triage role by aws:PrincipalArn (the role exists)",
        role_arn in json.dumps(policy)
        and role_arn == a.iam.get_role(RoleName=stack.ref("TriageFunctionRole"))["Role"]["Arn"],
    )
    aliases = [x for x in a.kms.list_aliases(KeyId=meta["KeyId"])["Aliases"]]
    R.eq("api", "TriageKey alias", [x["AliasName"] for x in aliases], [f"alias/{stack.name}-triage"])
    topics = {"NoticesTopic": True, "AlarmTopic": stack.resolver.condition("HasAlarmEmail")}
    for t, want in topics.items():
        if not R.eq("api", f"{t} exists", t in stack.physical, want) or not want:
            continue
        attrs = a.sns.get_topic_attributes(TopicArn=stack.ref(t))["Attributes"]
        R.eq("api", f"{t} encrypted with TriageKey", attrs.get("KmsMasterKeyId"), stack.getatt("TriageKey", "Arn"))


def check_not_created(stack: Stack) -> None:
    """Resources moto does not create: their resolved properties must name things that exist."""
    a = stack.aws
    v = stack.resolver.values
    queue_arns = {stack.getatt(q, "Arn"): q for q in stack.active("AWS::SQS::Queue")}
    queue_urls = {stack.ref(q): q for q in stack.active("AWS::SQS::Queue")}
    for name in stack.active("AWS::SNS::Subscription"):
        p = stack.props(name)
        if p["Protocol"] == "email":
            want = v["NotificationEmail"] if name == "NoticesEmailSubscription" else v["AlarmEmail"]
            topic = stack.ref("NoticesTopic" if name == "NoticesEmailSubscription" else "AlarmTopic")
            R.eq(
                "tmpl",
                f"{name}: e-mail {want} on {topic.rsplit(':', 1)[1]}",
                (p["Endpoint"], p["TopicArn"]),
                (want, topic),
            )
        else:
            R.ok(
                "tmpl",
                f"{name}: sqs, raw delivery off, from the existing {p['TopicArn'].rsplit(':', 1)[1]} "
                f"to {queue_arns.get(p['Endpoint'])}",
                p["Protocol"] == "sqs"
                and p.get("RawMessageDelivery") is False
                and p["Endpoint"] in queue_arns
                and topic_exists(a, p["TopicArn"]),
                json.dumps(p),
            )
    want_subs = {
        "NoticesEmailSubscription": stack.resolver.condition("HasNotificationEmail"),
        "AlarmEmailSubscription": stack.resolver.condition("HasAlarmEmail"),
        "CloudTrailNotificationsSubscription": stack.resolver.condition("HasCloudTrailBucketTopic"),
        "FlowLogsNotificationsSubscription": stack.resolver.condition("HasFlowLogsBucketTopic"),
        "ResolverLogsNotificationsSubscription": stack.resolver.condition("HasResolverLogsBucketTopic"),
        "EksAuditLogsNotificationsSubscription": stack.resolver.condition("HasEksAuditLogsBucketTopic"),
    }
    R.eq(
        "tmpl",
        "subscriptions of this combination",
        sorted(stack.active("AWS::SNS::Subscription")),
        sorted(k for k, on in want_subs.items() if on),
    )

    covered = set()
    for name in stack.active("AWS::SQS::QueuePolicy"):
        p = stack.props(name)
        queues = [queue_urls.get(u) for u in p["Queues"]]
        covered.update(q for q in queues if q)
        arns = {stack.getatt(q, "Arn") for q in queues if q}
        sts = statements(p["PolicyDocument"])
        ok = all(q for q in queues) and all(set(as_list(s["Resource"])) <= arns for s in sts)
        sources = [
            c
            for s in sts
            for c in as_list(((s.get("Condition") or {}).get("ArnEquals") or {}).get("aws:SourceArn", []))
        ]
        known = [
            src
            for src in sources
            if src.startswith("arn:aws:s3:::")
            or src in {stack.getatt(r, "Arn") for r in stack.active("AWS::Events::Rule")}
            or topic_exists(a, src)
        ]
        R.ok(
            "tmpl",
            f"{name}: on {', '.join(q or '?' for q in queues)}, statements on that queue, source ARNs exist "
            f"({len(sources)})",
            ok and len(known) == len(sources),
            json.dumps(p),
        )
    R.eq("tmpl", "every queue has a queue policy", sorted(covered), sorted(queue_urls.values()))

    for name in stack.active("AWS::SNS::TopicPolicy"):
        p = stack.props(name)
        topics = p["Topics"]
        ok = all(t in stack.physical.values() for t in topics) and all(
            set(as_list(s["Resource"])) <= set(topics) for s in statements(p["PolicyDocument"])
        )
        R.ok(
            "tmpl",
            f"{name}: on {', '.join(t.rsplit(':', 1)[1] for t in topics)}, statements on that topic",
            ok,
            json.dumps(p),
        )

    for name in stack.active("AWS::Lambda::EventInvokeConfig"):
        p = stack.props(name)
        dest = p["DestinationConfig"]["OnFailure"]["Destination"]
        R.ok(
            "tmpl",
            f"{name}: {p['FunctionName']} $LATEST, 2 retries, 6 h, on failure to {queue_arns.get(dest)}",
            p["FunctionName"] in stack.physical.values()
            and p["Qualifier"] == "$LATEST"
            and p["MaximumRetryAttempts"] == 2
            and p["MaximumEventAgeInSeconds"] == 21600
            and dest in queue_arns,
            json.dumps(p),
        )
    want_actions = []
    if stack.resolver.condition("HasAlarmEmail"):
        want_actions.append(stack.ref("AlarmTopic"))
    if stack.resolver.condition("HasAlarmTopicArn"):
        want_actions.append(v["AlarmTopicArn"])
    names = {
        "QueueName": {stack.getatt(q, "QueueName") for q in stack.active("AWS::SQS::Queue")},
        "FunctionName": {stack.ref(f) for f in stack.active("AWS::Lambda::Function")},
        "RuleName": {stack.ref(r) for r in stack.active("AWS::Events::Rule")},
    }
    alarms = stack.active("AWS::CloudWatch::Alarm")
    bad = []
    for name in alarms:
        p = stack.props(name)
        dims_ok = all(d["Value"] in names.get(d["Name"], set()) for d in p["Dimensions"])
        if not (dims_ok and p.get("AlarmActions", []) == want_actions and p.get("OKActions", []) == want_actions):
            bad.append(f"{name}: {json.dumps(p['Dimensions'])} actions {p.get('AlarmActions')}")
    R.ok(
        "tmpl",
        f"{len(alarms)} alarms: dimensions name this stack's queues/functions/rules, actions "
        f"{[x.rsplit(':', 1)[1] for x in want_actions] or 'none'}",
        not bad,
        "; ".join(bad),
    )
    for t in want_actions:
        R.ok("tmpl", f"alarm action {t.rsplit(':', 1)[1]} exists", topic_exists(a, t))


def check_outputs(stack: Stack) -> dict[str, str]:
    a = stack.aws
    got = {
        o["OutputKey"]: o["OutputValue"]
        for o in a.cloudformation.describe_stacks(StackName=stack.name)["Stacks"][0].get("Outputs", [])
    }
    want = {k: str(v) for k, v in stack.resolver.outputs().items()}
    R.eq("api", "outputs of this combination, with the template's values", got, want)

    def exists(key: str, value: str) -> bool:
        if key.endswith("QueueUrl"):
            return value in {stack.ref(q) for q in stack.active("AWS::SQS::Queue")} and bool(
                a.sqs.get_queue_attributes(QueueUrl=value, AttributeNames=["QueueArn"])
            )
        if key.endswith("QueueArn"):
            return queue_exists(a, value)
        if key.endswith("TopicArn"):
            return topic_exists(a, value)
        if key == "TableName":
            return a.dynamodb.describe_table(TableName=value)["Table"]["TableStatus"] == "ACTIVE"
        if key.endswith("FunctionName") or key.endswith("FunctionArn"):
            return bool(a.c["lambda"].get_function(FunctionName=value))
        if key == "KeyArn":
            return a.kms.describe_key(KeyId=value)["KeyMetadata"]["Arn"] == value
        if key.endswith("RuleName"):
            return a.events.describe_rule(Name=value)["Name"] == value
        if key == "LogGroupName":
            return any(
                g["logGroupName"] == value for g in a.logs.describe_log_groups(logGroupNamePrefix=value)["logGroups"]
            )
        raise KeyError(f"no existence check for output {key}")

    for key, value in sorted(got.items()):
        R.guard(
            "api",
            f"output {key} exists",
            lambda k=key, val=value: R.ok("api", f"output {k} names an existing resource", exists(k, val), val),
        )
    return got


def replay(stack: Stack, outputs: dict[str, str], cli: Path, event: Path, endpoint: str) -> None:
    a = stack.aws
    topic = outputs["NoticesTopicArn"]
    # A probe queue subscribed to the notices topic (not part of the stack), to see the notice arrive.
    probe_url = a.sqs.create_queue(QueueName=f"{stack.name}-probe")["QueueUrl"]
    probe_arn = a.sqs.get_queue_attributes(QueueUrl=probe_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    a.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=probe_arn, Attributes={"RawMessageDelivery": "false"})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRIAGE_"))}
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": stack.aws.region,
            "AWS_DEFAULT_REGION": stack.aws.region,
            "TRIAGE_TABLE_NAME": outputs["TableName"],
            "TRIAGE_TOPIC_ARN": topic,
        }
    )

    def run() -> dict[str, Any]:
        p = subprocess.run(
            [str(cli), "replay", "--json", str(event)], env=env, capture_output=True, text=True, timeout=120
        )
        lines = [line for line in p.stdout.splitlines() if line.strip().startswith("{")]
        if p.returncode != 0 or len(lines) != 1:
            raise RuntimeError(f"exit {p.returncode}, stdout {p.stdout.strip()!r}, stderr {p.stderr.strip()[-500:]!r}")
        return json.loads(lines[0])

    first = R.guard("replay", f"replay {event.name}", run)
    if first is not None:
        R.ok(
            "replay",
            f"{event.name} published to {topic.rsplit(':', 1)[1]} (message_id {first.get('message_id')})",
            first.get("published") is True and bool(first.get("message_id")),
            json.dumps(first),
        )
        msgs = a.sqs.receive_message(QueueUrl=probe_url, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
        ids = [json.loads(m["Body"]).get("MessageId") for m in msgs]
        R.eq("replay", "the notice reached a subscriber of the topic", ids, [first.get("message_id")])
        for m in msgs:
            a.sqs.delete_message(QueueUrl=probe_url, ReceiptHandle=m["ReceiptHandle"])
    second = R.guard("replay", f"replay {event.name} again", run)
    if second is not None:
        R.ok(
            "replay",
            "second replay publishes nothing (deduplicated in the stack's table)",
            second.get("published") is False and not second.get("message_id") and not second.get("error"),
            json.dumps(second),
        )
        msgs = a.sqs.receive_message(QueueUrl=probe_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        R.eq("replay", "nothing more reached the subscriber", len(msgs), 0)
    items = a.dynamodb.scan(TableName=outputs["TableName"], Select="COUNT")["Count"]
    R.ok("replay", f"the finding's dedupe record is in {outputs['TableName']} ({items} item(s))", items >= 1)


def delete(aws: Aws, name: str) -> None:
    stack_id = aws.cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackId"]
    aws.cloudformation.delete_stack(StackName=name)
    status = ""
    for _ in range(60):
        stacks = aws.cloudformation.describe_stacks(StackName=stack_id)["Stacks"]
        status = stacks[0]["StackStatus"] if stacks else "DELETE_COMPLETE"
        if not status.endswith("IN_PROGRESS"):
            break
        time.sleep(0.5)
    R.eq("api", f"stack {name} deleted", status, "DELETE_COMPLETE")


def rehearse_responder(aws: Aws, template: dict[str, Any], combo: cfn.Combo, args: argparse.Namespace) -> None:
    R.section(f"template.yaml: {combo.name} - {combo.what}")
    params = " ".join(f"{k}={v}" for k, v in combo.params.items())
    print(f"  parameters: {params}")
    R.prefix = ""
    expanded, lookups = cfn.sam_transform(template, combo, (CODE_BUCKET, CODE_KEY))
    R.guard("sam", "expanded template", lambda: check_expanded(expanded, lookups, combo))
    name = f"gdt-{combo.name}"
    if not R.guard("api", f"create stack {name}", lambda: create(aws, name, expanded, combo)):
        return
    stack = Stack(aws, name, expanded, combo)
    R.guard("api", "created resources", lambda: check_created(stack))
    R.guard(
        "api",
        "FindingsRule",
        lambda: check_rule(stack, "FindingsRule", "TriageFunction", "FindingsRuleDeadLetterQueue", args.event),
    )
    if stack.resolver.condition("IngestCloudTrailApiEvents"):
        R.guard(
            "api",
            "CloudTrailApiEventsRule",
            lambda: check_rule(
                stack,
                "CloudTrailApiEventsRule",
                "CloudTrailIngestFunction",
                "CloudTrailApiEventsRuleDeadLetterQueue",
                args.event,
            ),
        )
    else:
        R.ok(
            "api",
            "no CloudTrailApiEventsRule (CloudTrailApiEvents=disabled)",
            "CloudTrailApiEventsRule" not in stack.physical,
        )
    R.guard("api", "table", lambda: check_table(stack))
    R.guard("api", "functions", lambda: check_functions(stack))
    R.guard("api", "queues", lambda: check_queues(stack))
    R.guard("api", "event source mappings", lambda: check_mappings(stack))
    R.guard("api", "key and topics", lambda: check_key_and_topics(stack))
    R.guard("tmpl", "resources moto does not create", lambda: check_not_created(stack))
    outputs = R.guard("api", "outputs", lambda: check_outputs(stack))
    if outputs:
        R.guard("replay", "replay", lambda: replay(stack, outputs, args.triage_cli, args.event, args.endpoint))
    if not args.keep:
        R.guard("api", f"delete stack {name}", lambda: delete(aws, name))


# ----------------------------------------------------------------------------------------------------
# The region forwarder
# ----------------------------------------------------------------------------------------------------
def rehearse_forwarder(aws: Aws, template: dict[str, Any], combo: cfn.Combo, args: argparse.Namespace) -> None:
    R.section(f"region-forwarder.yaml: {combo.name} - {combo.what}")
    print("  parameters: " + " ".join(f"{k}={v}" for k, v in combo.params.items()))
    name = f"gdt-{combo.name}"
    if not R.guard("api", f"create stack {name}", lambda: create(aws, name, template, combo)):
        return
    stack = Stack(aws, name, template, combo)
    a = stack.aws
    R.guard("api", "created resources", lambda: check_created(stack))
    responder = combo.params["ResponderRegion"]
    min_sev = stack.resolver.values["MinSeverity"]

    def rule() -> None:
        rule_name = stack.ref("ForwardRule")
        R.eq("api", "ForwardRule name", rule_name, f"guardduty-triage-forward-to-{responder}")
        r = a.events.describe_rule(Name=rule_name)
        want: dict[str, Any] = {"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"]}
        if min_sev != "0":
            want["detail"] = {"severity": [{"numeric": [">=", int(min_sev)]}]}
        R.eq("api", "ForwardRule pattern (the responder's)", pattern_of(r["EventPattern"]), want)
        R.ok("api", f"ForwardRule matches {args.event.name} (severity 8)", matches(r["EventPattern"], args.event, 8.0))
        targets = a.events.list_targets_by_rule(Rule=rule_name)["Targets"]
        R.eq(
            "api",
            "ForwardRule target: the responder region's default bus, through ForwardRole, 185 retries, DLQ",
            [
                (t.get("Arn"), t.get("RoleArn"), t.get("RetryPolicy"), (t.get("DeadLetterConfig") or {}).get("Arn"))
                for t in targets
            ],
            [
                (
                    f"arn:aws:events:{responder}:{cfn.ACCOUNT}:event-bus/default",
                    stack.getatt("ForwardRole", "Arn"),
                    {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
                    stack.getatt("ForwardDeadLetterQueue", "Arn"),
                )
            ],
        )

    def role() -> None:
        r = a.iam.get_role(RoleName=stack.ref("ForwardRole"))["Role"]
        trust = document(r["AssumeRolePolicyDocument"])
        R.eq(
            "api",
            "ForwardRole trust as the template resolves it",
            trust,
            stack.props("ForwardRole")["AssumeRolePolicyDocument"],
        )
        rule_arn = stack.getatt("ForwardRule", "Arn")
        R.ok(
            "api",
            "ForwardRole trust names the rule that exists (aws:SourceArn)",
            rule_arn in json.dumps(trust),
            rule_arn,
        )
        names = a.iam.list_role_policies(RoleName=r["RoleName"])["PolicyNames"]
        R.eq("api", "ForwardRole inline policies", names, ["put-on-responder-region-default-bus"])
        doc = (
            document(a.iam.get_role_policy(RoleName=r["RoleName"], PolicyName=names[0])["PolicyDocument"])
            if names
            else {}
        )
        R.eq(
            "api",
            "ForwardRole may only events:PutEvents on the responder region's default bus",
            [(s["Effect"], s["Action"], s["Resource"]) for s in statements(doc)],
            [("Allow", "events:PutEvents", f"arn:aws:events:{responder}:{cfn.ACCOUNT}:event-bus/default")],
        )

    def queue() -> None:
        attrs = a.sqs.get_queue_attributes(QueueUrl=stack.ref("ForwardDeadLetterQueue"), AttributeNames=["All"])[
            "Attributes"
        ]
        R.eq(
            "api",
            "ForwardDeadLetterQueue SSE-SQS, 14 days",
            (attrs.get("SqsManagedSseEnabled"), attrs.get("MessageRetentionPeriod")),
            ("true", "1209600"),
        )

    R.guard("api", "ForwardRule", rule)
    R.guard("api", "ForwardRole", role)
    R.guard("api", "ForwardDeadLetterQueue", queue)

    def not_created() -> None:
        p = stack.props("ForwardDeadLetterQueuePolicy")
        q_arn = stack.getatt("ForwardDeadLetterQueue", "Arn")
        R.ok(
            "tmpl",
            "ForwardDeadLetterQueuePolicy: on the queue, ForwardRule (exists) writes failures, TLS only",
            p["Queues"] == [stack.ref("ForwardDeadLetterQueue")]
            and all(s["Resource"] == q_arn for s in statements(p["PolicyDocument"]))
            and stack.getatt("ForwardRule", "Arn") in json.dumps(p),
            json.dumps(p),
        )
        want = [combo.params["AlarmTopicArn"]] if combo.params.get("AlarmTopicArn") else []
        for alarm in stack.active("AWS::CloudWatch::Alarm"):
            ap = stack.props(alarm)
            dims = {d["Name"]: d["Value"] for d in ap["Dimensions"]}
            R.ok(
                "tmpl",
                f"{alarm}: {dims}, actions {[t.rsplit(':', 1)[1] for t in want] or 'none'}",
                ap.get("AlarmActions") == want
                and ap.get("OKActions") == want
                and dims
                in (
                    {"QueueName": stack.getatt("ForwardDeadLetterQueue", "QueueName")},
                    {"RuleName": stack.ref("ForwardRule")},
                )
                and all(topic_exists(a, t) for t in want),
                json.dumps(ap),
            )

    R.guard("tmpl", "resources moto does not create", not_created)
    R.guard(
        "api",
        "outputs",
        lambda: R.eq(
            "api",
            "outputs",
            {
                o["OutputKey"]: o["OutputValue"]
                for o in a.cloudformation.describe_stacks(StackName=name)["Stacks"][0].get("Outputs", [])
            },
            {k: str(v) for k, v in stack.resolver.outputs().items()},
        ),
    )
    if not args.keep:
        R.guard("api", f"delete stack {name}", lambda: delete(aws, name))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--triage-cli", type=Path, required=True)
    ap.add_argument("--event", type=Path, default=cfn.ROOT / "events" / "ssh-brute-force-target.json")
    ap.add_argument("--only", help="rehearse only the combinations whose name contains this")
    ap.add_argument("--keep", action="store_true", help="leave the stacks on the server")
    args = ap.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")

    print(
        "Function code is not rehearsed: every function's code is a placeholder zip in a moto bucket "
        f"(s3://{CODE_BUCKET}/{CODE_KEY}); moto never runs it."
    )
    aws = {r: Aws(args.endpoint, r) for r in (cfn.REGION, cfn.FORWARDER_REGION)}
    setup(aws)
    responder, forwarder = cfn.load(cfn.RESPONDER), cfn.load(cfn.FORWARDER)
    check_refusals(responder, forwarder)
    for combo in cfn.RESPONDER_COMBOS:
        if not args.only or args.only in combo.name:
            rehearse_responder(aws[combo.region], responder, combo, args)
    for combo in cfn.FORWARDER_COMBOS:
        if not args.only or args.only in combo.name:
            rehearse_forwarder(aws[combo.region], forwarder, combo, args)

    R.section("What moto could not rehearse")
    print("  Not evaluated by moto: the Rules section and parameter constraints ([cfn] checks, evaluated here).")
    print("  Resource types moto's CloudFormation does not create ([tmpl] checks, resolved against the stack):")
    for typ, what in MOTO_NOT_CREATED.items():
        print(f"  - {typ} ({what})")
    print("  Properties moto drops or misreports ([sam]/[tmpl] checks):")
    for what in MOTO_DROPPED:
        print(f"  - {what}")
    print("  Not enforced by moto at all: IAM and KMS authorization, key and topic/queue policies, encryption,")
    print("  S3 event notifications, EventBridge -> Lambda delivery, Lambda invocation")
    print("  (scripts/check-policies.sh lints the policies).")
    print(
        "  Not rehearsed: the function code (a placeholder zip); triage-cli runs the pipeline against the stack's table"
    )
    print("  and topic instead.")
    print(
        "  moto bugs fixed for the rehearsal in infra/rehearsal/moto_server.py (to behave as CloudFormation documents):"
    )
    for what in MOTO_PATCHED:
        print(f"  - {what}")
    if R.failed:
        print("\nFAILED:")
        for f in R.failed:
            print(f"  {f}")
    print(f"\nrehearsal: {R.passed} passed, {len(R.failed)} failed")
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
