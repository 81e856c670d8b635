#!/usr/bin/env python3
"""Create the responder's resources on the local AWS server, derived from infra/template.yaml.

Run by infra/local/up.sh with the tool venv's python (boto3 and PyYAML come with it):

    provision.py --endpoint http://127.0.0.1:4566 --template infra/template.yaml

From the template it takes the DynamoDB table (resource `TriageTable`: key schema, attribute
definitions, secondary indexes, TTL attribute, billing mode) and the EventBridge event patterns (resources
`FindingsRule` and `CloudTrailApiEventsRule`), with every parameter at its default unless
TRIAGE_LOCAL_PARAMETER_OVERRIDES says otherwise ("MinSeverity=4 Other=x"). So the local stack cannot drift
from the deployed one: a table whose schema no longer matches the template is recreated.

Locally it also creates the SNS topic, the SQS queue subscribed to it (not raw delivery: the SQS body is
the SNS envelope with Subject and MessageAttributes), and, on the default event bus, one rule per template
rule with the template's pattern whose target is an SQS queue of its own, so tests can see which events
each rule lets through. The CloudTrail rule is created whatever CloudTrailApiEvents says (its condition
decides whether it is deployed, not what it matches).

Idempotent. Prints only `export NAME=value` lines on stdout; everything else goes to stderr.

`--print-derived` prints the derived table and pattern as JSON instead (no server needed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import yaml

TABLE_NAME = "guardduty-triage"
TOPIC_NAME = "guardduty-triage-notices"
NOTICE_QUEUE_NAME = "guardduty-triage-notices-local"
EVENTS_QUEUE_NAME = "guardduty-triage-events-local"
RULE_NAME = "guardduty-triage-findings"
CLOUDTRAIL_EVENTS_QUEUE_NAME = "guardduty-triage-cloudtrail-events-local"
CLOUDTRAIL_RULE_NAME = "guardduty-triage-cloudtrail-api-events"

TABLE_RESOURCE = "TriageTable"
RULE_RESOURCE = "FindingsRule"
CLOUDTRAIL_RULE_RESOURCE = "CloudTrailApiEventsRule"

PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",  # moto's default account
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "guardduty-triage-local",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/guardduty-triage-local/local",
    "AWS::NotificationARNs": [],
}


def log(msg: str) -> None:
    print(f"provision.py: {msg}", file=sys.stderr)


# ----------------------------------------------------------------------------------------------------
# Template loading: a YAML loader that accepts CloudFormation's short tags (!Ref, !Sub, !GetAtt, ...).
# ----------------------------------------------------------------------------------------------------
class CfnLoader(yaml.SafeLoader):
    pass


def _short_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _short_tag)


def load_template(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass


# ----------------------------------------------------------------------------------------------------
# A small evaluator for the intrinsic functions that can appear in what we derive. Parameters resolve to
# their defaults (or overrides), pseudo parameters to local values; a reference to a resource cannot be
# resolved locally and is an error naming it.
# ----------------------------------------------------------------------------------------------------
class NoValue:
    pass


NO_VALUE = NoValue()


class Unresolvable(Exception):
    pass


class Evaluator:
    def __init__(self, template: dict[str, Any], overrides: dict[str, str]):
        self.template = template
        self.params: dict[str, Any] = {}
        for name, spec in (template.get("Parameters") or {}).items():
            if name in overrides:
                value: Any = overrides[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                continue
            # CloudFormation hands every parameter over as a string (lists for List<> types).
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, (int, float)):
                value = str(value)
            if str(spec.get("Type", "")).startswith("List<") or spec.get("Type") == "CommaDelimitedList":
                value = [v.strip() for v in str(value).split(",")] if value != "" else []
            self.params[name] = value
        unknown = set(overrides) - set(template.get("Parameters") or {})
        if unknown:
            raise SystemExit(f"TRIAGE_LOCAL_PARAMETER_OVERRIDES names unknown parameters: {sorted(unknown)}")
        self.conditions = template.get("Conditions") or {}
        self._condition_values: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._condition_values:
            if name not in self.conditions:
                raise Unresolvable(f"unknown condition {name}")
            self._condition_values[name] = bool(self.eval(self.conditions[name]))
        return self._condition_values[name]

    def ref(self, name: str) -> Any:
        if name in self.params:
            return self.params[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO:
            return PSEUDO[name]
        raise Unresolvable(f"Ref {name} (a resource, or a parameter without default) cannot be resolved locally")

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(m: re.Match[str]) -> str:
            inner = m.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"
            if inner in variables:
                value = variables[inner]
            elif "." in inner and inner.split(".", 1)[0] not in self.params:
                raise Unresolvable(f"${{{inner}}} (an attribute of a resource) cannot be resolved locally")
            else:
                value = self.ref(inner)
            if isinstance(value, (list, dict, NoValue)):
                raise Unresolvable(f"${{{inner}}} is not a string")
            return str(value)

        return re.sub(r"\$\{([^}]*)\}", replace, text)

    def eval(self, node: Any) -> Any:
        if isinstance(node, list):
            out = [self.eval(v) for v in node]
            return [v for v in out if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::If":
                name, then, otherwise = arg
                return self.eval(then if self.condition(name) else otherwise)
            if key == "Fn::Equals":
                a, b = (self.eval(v) for v in arg)
                return str(a) == str(b) if not isinstance(a, (list, dict)) else a == b
            if key == "Fn::Not":
                return not self.eval(arg[0])
            if key == "Fn::And":
                return all(self.eval(v) for v in arg)
            if key == "Fn::Or":
                return any(self.eval(v) for v in arg)
            if key == "Fn::Sub":
                if isinstance(arg, str):
                    return self.sub(arg, {})
                text, variables = arg
                return self.sub(text, {k: self.eval(v) for k, v in variables.items()})
            if key == "Fn::Join":
                sep, items = arg
                return str(sep).join(str(v) for v in self.eval(items))
            if key == "Fn::Select":
                index, items = arg
                return self.eval(items)[int(self.eval(index))]
            if key == "Fn::Split":
                sep, text = arg
                return str(self.eval(text)).split(sep)
            if key == "Fn::FindInMap":
                m, k1, k2 = (self.eval(v) for v in arg[:3])
                return self.eval(self.template["Mappings"][m][k1][k2])
            if key.startswith("Fn::"):
                raise Unresolvable(f"{key} cannot be resolved locally")
        out = {}
        for k, v in node.items():
            value = self.eval(v)
            if value is not NO_VALUE:
                out[k] = value
        return out


def resource(template: dict[str, Any], logical_id: str, type_: str) -> dict[str, Any]:
    res = (template.get("Resources") or {}).get(logical_id)
    if not res or res.get("Type") != type_:
        raise SystemExit(
            f"infra/template.yaml has no {type_} named {logical_id}: provision.py derives the local stack from it"
        )
    return res


def derive(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    ev = Evaluator(template, overrides)

    table_res = resource(template, TABLE_RESOURCE, "AWS::DynamoDB::Table")
    if "Condition" in table_res and not ev.condition(table_res["Condition"]):
        raise SystemExit(f"{TABLE_RESOURCE} is disabled by its condition with these parameters")
    props = table_res.get("Properties") or {}

    def p(name: str, default: Any = None) -> Any:
        return ev.eval(props[name]) if name in props else default

    billing = p("BillingMode", "PROVISIONED")
    table: dict[str, Any] = {
        "AttributeDefinitions": p("AttributeDefinitions"),
        "KeySchema": p("KeySchema"),
        "BillingMode": billing,
    }
    if billing == "PROVISIONED":
        table["ProvisionedThroughput"] = p("ProvisionedThroughput")

    def index(spec: dict[str, Any], with_throughput: bool) -> dict[str, Any]:
        out = {"IndexName": spec["IndexName"], "KeySchema": spec["KeySchema"], "Projection": spec["Projection"]}
        if with_throughput and billing == "PROVISIONED":
            out["ProvisionedThroughput"] = spec["ProvisionedThroughput"]
        return out

    gsis = p("GlobalSecondaryIndexes", [])
    if gsis:
        table["GlobalSecondaryIndexes"] = [index(g, True) for g in gsis]
    lsis = p("LocalSecondaryIndexes", [])
    if lsis:
        table["LocalSecondaryIndexes"] = [index(i, False) for i in lsis]
    ttl = p("TimeToLiveSpecification")
    ttl_attribute = ttl["AttributeName"] if ttl and str(ttl.get("Enabled")).lower() == "true" else None

    def event_pattern(logical_id: str) -> Any:
        # The rule's own Condition is not evaluated: locally every rule exists, to show what it matches.
        rule_res = resource(template, logical_id, "AWS::Events::Rule")
        pattern = ev.eval((rule_res.get("Properties") or {})["EventPattern"])
        return json.loads(pattern) if isinstance(pattern, str) else pattern

    return {
        "table": table,
        "ttl_attribute": ttl_attribute,
        "event_pattern": event_pattern(RULE_RESOURCE),
        "cloudtrail_event_pattern": event_pattern(CLOUDTRAIL_RULE_RESOURCE),
    }


def parse_overrides(text: str) -> dict[str, str]:
    out = {}
    for item in shlex.split(text):
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"TRIAGE_LOCAL_PARAMETER_OVERRIDES: expected Name=Value, got {item!r}")
        out[name] = value
    return out


# ----------------------------------------------------------------------------------------------------
# Local resources.
# ----------------------------------------------------------------------------------------------------
def _index_shape(indexes: list[dict[str, Any]] | None) -> list[tuple[Any, ...]]:
    shape = []
    for i in indexes or []:
        proj = i.get("Projection") or {}
        shape.append(
            (
                i["IndexName"],
                tuple((k["AttributeName"], k["KeyType"]) for k in i["KeySchema"]),
                proj.get("ProjectionType", "ALL"),
                tuple(sorted(proj.get("NonKeyAttributes") or [])),
            )
        )
    return sorted(shape)


def table_shape(desc: dict[str, Any]) -> tuple[Any, ...]:
    return (
        tuple((k["AttributeName"], k["KeyType"]) for k in desc["KeySchema"]),
        tuple(sorted((a["AttributeName"], a["AttributeType"]) for a in desc["AttributeDefinitions"])),
        tuple(_index_shape(desc.get("GlobalSecondaryIndexes"))),
        tuple(_index_shape(desc.get("LocalSecondaryIndexes"))),
    )


def ensure_table(ddb: Any, spec: dict[str, Any], ttl_attribute: str | None) -> None:
    wanted = table_shape(spec)
    try:
        desc = ddb.describe_table(TableName=TABLE_NAME)["Table"]
    except ddb.exceptions.ResourceNotFoundException:
        desc = None
    if desc is not None and table_shape(desc) != wanted:
        log(f"table {TABLE_NAME} does not match infra/template.yaml any more: recreating it (local data is lost)")
        ddb.delete_table(TableName=TABLE_NAME)
        ddb.get_waiter("table_not_exists").wait(TableName=TABLE_NAME, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
        desc = None
    if desc is None:
        ddb.create_table(TableName=TABLE_NAME, **spec)
        log(f"created table {TABLE_NAME}")
    else:
        log(f"table {TABLE_NAME} exists and matches the template")
    for _ in range(100):
        if ddb.describe_table(TableName=TABLE_NAME)["Table"]["TableStatus"] == "ACTIVE":
            break
        time.sleep(0.1)
    ttl = ddb.describe_time_to_live(TableName=TABLE_NAME)["TimeToLiveDescription"]
    current = ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") else None
    if current != ttl_attribute:
        if current:
            ddb.update_time_to_live(
                TableName=TABLE_NAME, TimeToLiveSpecification={"AttributeName": current, "Enabled": False}
            )
        if ttl_attribute:
            ddb.update_time_to_live(
                TableName=TABLE_NAME, TimeToLiveSpecification={"AttributeName": ttl_attribute, "Enabled": True}
            )
        log(f"TTL attribute of {TABLE_NAME}: {ttl_attribute}")


def ensure_queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def allow_senders(sqs: Any, url: str, arn: str, service: str, source_arn: str) -> None:
    # The local server does not enforce it; kept so the local queues look like deployed ones.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})


def provision(endpoint: str, derived: dict[str, Any]) -> dict[str, str]:
    import boto3  # from the venv (moto depends on it)

    session = boto3.session.Session(
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        region_name=PSEUDO["AWS::Region"],
    )
    ddb = session.client("dynamodb", endpoint_url=endpoint)
    sns = session.client("sns", endpoint_url=endpoint)
    sqs = session.client("sqs", endpoint_url=endpoint)
    events = session.client("events", endpoint_url=endpoint)

    ensure_table(ddb, derived["table"], derived["ttl_attribute"])

    topic_arn = sns.create_topic(Name=TOPIC_NAME)["TopicArn"]
    notice_url, notice_arn = ensure_queue(sqs, NOTICE_QUEUE_NAME)
    allow_senders(sqs, notice_url, notice_arn, "sns.amazonaws.com", topic_arn)
    subs = []
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        subs += [s for s in page["Subscriptions"] if s["Protocol"] == "sqs" and s["Endpoint"] == notice_arn]
    if not subs:
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=notice_arn, Attributes={"RawMessageDelivery": "false"})
        log(f"subscribed {NOTICE_QUEUE_NAME} to {TOPIC_NAME}")
    else:
        for s in subs:  # the contract is the SNS envelope, never raw delivery
            attrs = sns.get_subscription_attributes(SubscriptionArn=s["SubscriptionArn"])["Attributes"]
            if attrs.get("RawMessageDelivery", "false") != "false":
                sns.set_subscription_attributes(
                    SubscriptionArn=s["SubscriptionArn"], AttributeName="RawMessageDelivery", AttributeValue="false"
                )

    events_url = ensure_rule_to_queue(
        sqs, events, RULE_NAME, RULE_RESOURCE, derived["event_pattern"], EVENTS_QUEUE_NAME
    )
    cloudtrail_events_url = ensure_rule_to_queue(
        sqs, events, CLOUDTRAIL_RULE_NAME, CLOUDTRAIL_RULE_RESOURCE, derived["cloudtrail_event_pattern"],
        CLOUDTRAIL_EVENTS_QUEUE_NAME,
    )

    return {
        "TRIAGE_TABLE_NAME": TABLE_NAME,
        "TRIAGE_TOPIC_ARN": topic_arn,
        "TRIAGE_NOTICE_QUEUE_URL": notice_url,
        "TRIAGE_EVENTS_QUEUE_URL": events_url,
        "TRIAGE_EVENT_RULE_NAME": RULE_NAME,
        "TRIAGE_CLOUDTRAIL_EVENTS_QUEUE_URL": cloudtrail_events_url,
        "TRIAGE_CLOUDTRAIL_EVENT_RULE_NAME": CLOUDTRAIL_RULE_NAME,
    }


def ensure_rule_to_queue(sqs: Any, events: Any, name: str, resource_id: str, pattern: Any, queue_name: str) -> str:
    """A rule on the default bus with the template's pattern (put_rule overwrites it), targeting a queue."""
    url, arn = ensure_queue(sqs, queue_name)
    rule_arn = events.put_rule(
        Name=name,
        EventPattern=json.dumps(pattern),
        State="ENABLED",
        Description=f"Local copy of {resource_id} from infra/template.yaml; target: an SQS queue",
    )["RuleArn"]
    allow_senders(sqs, url, arn, "events.amazonaws.com", rule_arn)
    events.put_targets(Rule=name, Targets=[{"Id": "events-local", "Arn": arn}])
    log(f"rule {name}: {json.dumps(pattern)} -> {queue_name}")
    return url


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", help="local server, e.g. http://127.0.0.1:4566")
    ap.add_argument("--template", default=str(Path(__file__).resolve().parents[1] / "template.yaml"))
    ap.add_argument("--print-derived", action="store_true", help="print what is derived from the template and exit")
    args = ap.parse_args()

    overrides = parse_overrides(os.environ.get("TRIAGE_LOCAL_PARAMETER_OVERRIDES", ""))
    try:
        derived = derive(load_template(Path(args.template)), overrides)
    except Unresolvable as e:
        raise SystemExit(f"provision.py: cannot derive the local stack from {args.template}: {e}") from None
    if args.print_derived:
        print(json.dumps(derived, indent=2))
        return 0
    if not args.endpoint:
        ap.error("--endpoint is required")
    for name, value in provision(args.endpoint, derived).items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
