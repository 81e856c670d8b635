#!/usr/bin/env python3
"""Policy lint: run by scripts/check-policies.sh (which also holds the exceptions).

For each parameter combination of cfn.py, it expands infra/template.yaml with the SAM translator (and takes
infra/region-forwarder.yaml as it is), resolves conditions and intrinsic functions (resources get made-up but
well-formed names and ARNs), and extracts every policy:

  identity  AWS::IAM::Policy / AWS::IAM::ManagedPolicy documents, AWS::IAM::Role inline Policies
  resource  AWS::KMS::Key KeyPolicy, AWS::SQS::QueuePolicy, AWS::SNS::TopicPolicy, AWS::S3::BucketPolicy,
            AWS::Lambda::Permission (as the statement Lambda adds to the function policy), AWS::IAM::Role
            AssumeRolePolicyDocument (trust policy)

Any other resource with a *Policy* property fails the run (a new kind of policy must be added here).

Checks:
  parliament       parliament on every identity policy (every finding); on resource policies only its
                   unknown-action/prefix findings (an action IAM does not know is dead text, and in a Deny
                   means the deny is narrower than it reads)
  wildcard-action  no Allow with Action `*` or `service:*`, nor any Allow with NotAction
  public-principal no Allow with Principal `*` unless a condition restricts who (principal, account,
                   organisation, source ARN/account, VPC endpoint)
  service-source   every Allow to a service principal carries the source condition the service documents
                   for that use (SOURCE_CONDITIONS below, with where it is documented)
  tls-only         every SQS queue and SNS topic of the stack has a policy with a Deny for Principal `*` on
                   aws:SecureTransport false covering it (sqs:* for queues; at least sns:Publish for topics)

A finding is reported once with every combination that produced it. Findings that match an exception
(--exceptions, one per line: CHECK | FILE | RESOURCE | STATEMENT | reason) are listed as accepted, with the
reason; an exception that matches nothing fails the run (so they do not outlive what they excuse).
The last line is 'policies: N passed, M failed' (checks); exit code 1 on any unexcepted finding.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cfn  # noqa: E402

# ----------------------------------------------------------------------------------------------------
# Where each service documents the condition that ties its service principal to the caller's resource
# (confused-deputy protection). Key: (service principal pattern, action prefix). Value: the alternatives
# (each a set of keys that must all be present; one alternative suffices), and where it is documented.
# None: the service documents no such condition for this use (a finding, to be excepted with a reason).
# ----------------------------------------------------------------------------------------------------
SOURCE = ("aws:sourcearn",), ("aws:sourceaccount",)
SOURCE_CONDITIONS: dict[tuple[str, str], tuple[tuple[tuple[str, ...], ...] | None, str]] = {
    (r"events\.amazonaws\.com", "sqs:"): (
        (("aws:sourcearn",),),
        "EventBridge User Guide, 'Using dead-letter queues': queue policy condition aws:SourceArn = the rule",
    ),
    (r"events\.amazonaws\.com", "lambda:"): (
        (("aws:sourcearn",),),
        "Lambda AddPermission SourceArn (the rule); EventBridge User Guide, resource-based policies for Lambda",
    ),
    (r"logs\.amazonaws\.com", "lambda:"): (
        SOURCE,
        "CloudWatch Logs User Guide, 'Subscription filters with AWS Lambda' (add-permission --source-arn of "
        "the log group, --source-account) and 'Confused deputy prevention'",
    ),
    (r"events\.amazonaws\.com", "sts:"): (
        SOURCE,
        "EventBridge User Guide, 'Cross-service confused deputy prevention' (roles EventBridge assumes)",
    ),
    (r"events\.amazonaws\.com", "kms:"): (
        SOURCE,
        "SQS Developer Guide, key management for SSE-KMS queues: aws:SourceArn/aws:SourceAccount for "
        "CloudWatch Events/EventBridge",
    ),
    (r"sns\.amazonaws\.com", "sqs:"): (
        (("aws:sourcearn",),),
        "SNS Developer Guide, 'Subscribing an Amazon SQS queue': queue policy condition aws:SourceArn = the topic",
    ),
    (r"sns\.amazonaws\.com", "kms:"): (
        SOURCE,
        "SQS Developer Guide, key management for SSE-KMS queues: aws:SourceArn for Amazon SNS",
    ),
    (r"s3\.amazonaws\.com", "sqs:"): (
        (("aws:sourcearn", "aws:sourceaccount"),),
        "S3 User Guide, 'Granting permissions to publish event notification messages': aws:SourceArn = the "
        "bucket and aws:SourceAccount = its owner (a bucket ARN names no account)",
    ),
    (r"s3\.amazonaws\.com", "kms:"): (
        SOURCE,
        "SQS Developer Guide, key management for SSE-KMS queues: aws:SourceArn/aws:SourceAccount for Amazon S3",
    ),
    (r"cloudwatch\.amazonaws\.com", "sns:"): (
        SOURCE,
        "CloudWatch User Guide, alarm actions to SNS: aws:SourceArn/aws:SourceAccount (confused deputy)",
    ),
    (r"cloudwatch\.amazonaws\.com", "kms:"): (
        SOURCE,
        "CloudWatch User Guide, alarms to encrypted SNS topics: key policy for cloudwatch.amazonaws.com",
    ),
    (r"logs\.[a-z0-9-]+\.amazonaws\.com(\.cn)?", "kms:"): (
        ((("kms:encryptioncontext:aws:logs:arn",),) + SOURCE),
        "CloudWatch Logs User Guide, 'Encrypt log data using AWS KMS': kms:EncryptionContext:aws:logs:arn",
    ),
    (r"lambda\.amazonaws\.com", "sts:"): (
        None,
        "Lambda Developer Guide, execution role: the trust policy names lambda.amazonaws.com only",
    ),
    (r"dynamodb\.amazonaws\.com", "kms:"): (
        None,
        "DynamoDB Developer Guide, encryption at rest with a customer managed key: the key policy statement "
        "for dynamodb.amazonaws.com (Describe/Get/List) has no condition",
    ),
}

# Keys that restrict who a Principal `*` statement applies to.
RESTRICTING_KEYS = {
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourcevpce",
    "aws:sourcevpc",
    "aws:userid",
    "kms:calleraccount",
    "aws:resourceaccount",
    "aws:resourceorgid",
}

# Property names that hold a policy, on any resource type (RedrivePolicy, RetryPolicy and the like do not).
POLICY_PROPERTIES = {
    "Policy",
    "PolicyDocument",
    "PolicyText",
    "Policies",
    "AccessPolicies",
    "ResourcePolicy",
    "KeyPolicy",
    "AssumeRolePolicyDocument",
    "ResourcePolicyDocument",
    "ResourceBasedPolicy",
}
POLICY_TYPES = {
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::KMS::Key",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::S3::BucketPolicy",
    "AWS::Lambda::Permission",
}


@dataclass
class Policy:
    file: str
    resource: str
    rtype: str
    kind: str  # identity | resource
    what: str
    document: dict[str, Any]
    covers: list[str] = field(default_factory=list)  # queues/topics (logical IDs) a queue/topic policy is on


@dataclass
class Finding:
    check: str
    file: str
    resource: str
    statement: str
    message: str
    combos: list[str] = field(default_factory=list)
    reason: str = ""  # the exception's, when accepted


def as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return as_list(doc.get("Statement"))


def sid(s: dict[str, Any], i: int) -> str:
    return str(s.get("Sid") or f"#{i}")


def condition_keys(s: dict[str, Any]) -> set[str]:
    return {k.lower() for op in (s.get("Condition") or {}).values() if isinstance(op, dict) for k in op}


# ----------------------------------------------------------------------------------------------------
# Extraction
# ----------------------------------------------------------------------------------------------------
def extract(template: dict[str, Any], combo: cfn.Combo, file: str) -> tuple[list[Policy], list[Finding], cfn.Resolver]:
    resolver = cfn.offline_resolver(template, combo)
    policies: list[Policy] = []
    problems: list[Finding] = []
    resources = resolver.active_resources()
    by_ref = {
        str(resolver.ref(k)): k for k, v in resources.items() if v.get("Type") in ("AWS::SQS::Queue", "AWS::SNS::Topic")
    }
    region, part = combo.region, combo.partition
    for name, res in resources.items():
        typ = res.get("Type", "")
        if typ not in POLICY_TYPES:
            if POLICY_PROPERTIES & set(res.get("Properties") or {}):
                problems.append(
                    Finding(
                        "extract",
                        file,
                        name,
                        "-",
                        f"{typ} has a policy property this lint does "
                        "not extract: add it to infra/rehearsal/policies.py",
                    )
                )
            continue
        p = resolver.properties(name)
        if typ == "AWS::IAM::Role":
            policies.append(Policy(file, name, typ, "resource", "trust policy", p["AssumeRolePolicyDocument"]))
            for inline in p.get("Policies") or []:
                policies.append(
                    Policy(
                        file, name, typ, "identity", f"inline policy {inline['PolicyName']}", inline["PolicyDocument"]
                    )
                )
            for arn in p.get("ManagedPolicyArns") or []:
                problems.append(Finding("extract", file, name, "-", f"managed policy {arn} attached: not linted"))
        elif typ in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            policies.append(
                Policy(
                    file,
                    name,
                    typ,
                    "identity",
                    f"{typ.rsplit(':', 1)[1]} {p.get('PolicyName', name)}",
                    p["PolicyDocument"],
                )
            )
        elif typ == "AWS::KMS::Key":
            policies.append(Policy(file, name, typ, "resource", "key policy", p["KeyPolicy"]))
        elif typ == "AWS::SQS::QueuePolicy":
            policies.append(
                Policy(
                    file,
                    name,
                    typ,
                    "resource",
                    "queue policy",
                    p["PolicyDocument"],
                    [by_ref.get(str(q), str(q)) for q in p["Queues"]],
                )
            )
        elif typ == "AWS::SNS::TopicPolicy":
            policies.append(
                Policy(
                    file,
                    name,
                    typ,
                    "resource",
                    "topic policy",
                    p["PolicyDocument"],
                    [by_ref.get(str(t), str(t)) for t in p["Topics"]],
                )
            )
        elif typ == "AWS::S3::BucketPolicy":
            policies.append(Policy(file, name, typ, "resource", "bucket policy", p["PolicyDocument"]))
        elif typ == "AWS::Lambda::Permission":
            fn = str(p["FunctionName"])
            if not fn.startswith("arn:"):
                fn = f"arn:{part}:lambda:{region}:{cfn.ACCOUNT}:function:{fn}"
            principal = p["Principal"]
            st: dict[str, Any] = {
                "Sid": name,
                "Effect": "Allow",
                "Principal": {"Service": principal} if principal.endswith(".amazonaws.com") else {"AWS": principal},
                "Action": p["Action"],
                "Resource": fn,
            }
            cond: dict[str, Any] = {}
            if "SourceArn" in p:
                cond.setdefault("ArnLike", {})["AWS:SourceArn"] = p["SourceArn"]
            if "SourceAccount" in p:
                cond.setdefault("StringEquals", {})["AWS:SourceAccount"] = p["SourceAccount"]
            if "PrincipalOrgID" in p:
                cond.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = p["PrincipalOrgID"]
            if cond:
                st["Condition"] = cond
            policies.append(
                Policy(
                    file,
                    name,
                    typ,
                    "resource",
                    "Lambda permission (function policy statement)",
                    {"Version": "2012-10-17", "Statement": [st]},
                )
            )
    return policies, problems, resolver


# ----------------------------------------------------------------------------------------------------
# Checks
# ----------------------------------------------------------------------------------------------------
def run_parliament(policy: Policy) -> list[Finding]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from parliament import analyze_policy_string  # noqa: PLC0415

    result = analyze_policy_string(json.dumps(policy.document), include_community_auditors=False)
    out = []
    for f in result.findings:
        if policy.kind == "resource" and f.issue not in ("UNKNOWN_ACTION", "UNKNOWN_PREFIX"):
            continue
        loc = f.location or {}
        where = loc.get("string") or ""
        stmt = "-"
        for i, s in enumerate(statements(policy.document)):
            if where and where in json.dumps(s):
                stmt = sid(s, i)
                break
        detail = f.detail if isinstance(f.detail, str) else json.dumps(f.detail)
        out.append(
            Finding(
                f"parliament:{f.issue}",
                policy.file,
                policy.resource,
                stmt,
                f"{policy.what}: {f.title or f.issue} {where} {detail or ''}".strip(),
            )
        )
    return out


def check_statements(policy: Policy) -> tuple[list[Finding], int]:
    out, checked = [], 0
    for i, s in enumerate(statements(policy.document)):
        st = sid(s, i)
        if s.get("Effect") != "Allow":
            continue
        checked += 1
        actions = [str(a) for a in as_list(s.get("Action"))]
        wild = [a for a in actions if a == "*" or re.fullmatch(r"[A-Za-z0-9-]+:\*", a)]
        if wild or "NotAction" in s:
            out.append(
                Finding(
                    "wildcard-action",
                    policy.file,
                    policy.resource,
                    st,
                    f"{policy.what}: Allow with {'NotAction' if 'NotAction' in s else 'Action ' + ', '.join(wild)}",
                )
            )
        principal = s.get("Principal")
        if policy.kind == "resource" and principal is not None:
            aws_principals = (
                [principal]
                if principal == "*"
                else as_list(principal.get("AWS"))
                if isinstance(principal, dict)
                else []
            )
            if "*" in aws_principals and not (condition_keys(s) & RESTRICTING_KEYS):
                out.append(
                    Finding(
                        "public-principal",
                        policy.file,
                        policy.resource,
                        st,
                        f"{policy.what}: Allow to Principal * without a condition on who",
                    )
                )
            services = as_list(principal.get("Service")) if isinstance(principal, dict) else []
            for service in services:
                for action in actions:
                    out.extend(check_service_source(policy, st, s, str(service), action))
    return out, checked


def check_service_source(policy: Policy, st: str, s: dict[str, Any], service: str, action: str) -> list[Finding]:
    prefix = action.split(":", 1)[0].lower() + ":"
    for (pattern, family), (alternatives, doc) in SOURCE_CONDITIONS.items():
        if re.fullmatch(pattern, service) and prefix == family:
            if alternatives is None:
                return [
                    Finding(
                        "service-source",
                        policy.file,
                        policy.resource,
                        st,
                        f"{policy.what}: {service} {action} without a source condition; the service "
                        f"documents none for this use ({doc})",
                    )
                ]
            have = condition_keys(s)
            if any(set(alt) <= have for alt in alternatives):
                return []
            want = " or ".join(" + ".join(alt) for alt in alternatives)
            return [
                Finding(
                    "service-source",
                    policy.file,
                    policy.resource,
                    st,
                    f"{policy.what}: {service} {action} without {want} ({doc})",
                )
            ]
    return [
        Finding(
            "service-source",
            policy.file,
            policy.resource,
            st,
            f"{policy.what}: {service} {action}: no documented source condition known to this lint "
            "(add the service's to SOURCE_CONDITIONS in infra/rehearsal/policies.py)",
        )
    ]


def tls_deny_covers(policy: Policy, arn: str, kind: str) -> bool:
    for s in statements(policy.document):
        if s.get("Effect") != "Deny" or s.get("Principal") not in ("*", {"AWS": "*"}):
            continue
        cond = s.get("Condition") or {}
        secure = {k.lower(): v for k, v in (cond.get("Bool") or {}).items()}.get("aws:securetransport")
        if str(secure).lower() != "false":
            continue
        actions = {str(a).lower() for a in as_list(s.get("Action"))}
        needed = {"sqs:*"} if kind == "sqs" else {"sns:publish"}
        if not (needed <= actions or "*" in actions or (kind == "sns" and "sns:*" in actions)):
            continue
        if arn in as_list(s.get("Resource")) or "*" in as_list(s.get("Resource")):
            return True
    return False


def check_tls(policies: list[Policy], resolver: cfn.Resolver, file: str) -> tuple[list[Finding], int]:
    out, checked = [], 0
    for typ, kind, attr in (("AWS::SQS::Queue", "sqs", "Arn"), ("AWS::SNS::Topic", "sns", None)):
        for name in resolver.active_resources(typ):
            checked += 1
            arn = str(resolver.getatt(name, attr) if attr else resolver.ref(name))
            covering = [p for p in policies if name in p.covers]
            if not covering:
                out.append(
                    Finding(
                        "tls-only",
                        file,
                        name,
                        "-",
                        f"{typ} has no {'queue' if kind == 'sqs' else 'topic'} policy, so no TLS-only deny",
                    )
                )
            elif not any(tls_deny_covers(p, arn, kind) for p in covering):
                out.append(
                    Finding(
                        "tls-only",
                        file,
                        ", ".join(p.resource for p in covering),
                        "-",
                        f"no Deny on aws:SecureTransport false covering {name} "
                        f"({'sqs:*' if kind == 'sqs' else 'sns:Publish'})",
                    )
                )
    return out, checked


# ----------------------------------------------------------------------------------------------------
def load_exceptions(path: Path | None) -> list[dict[str, Any]]:
    out = []
    if not path:
        return out
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|", 4)]
        if len(parts) != 5 or not parts[4]:
            raise SystemExit(f"bad exception line (CHECK | FILE | RESOURCE | STATEMENT | reason): {line}")
        out.append(
            {
                "check": parts[0],
                "file": parts[1],
                "resource": parts[2],
                "statement": parts[3],
                "reason": parts[4],
                "used": 0,
            }
        )
    return out


def matches(exc: dict[str, Any], f: Finding) -> bool:
    from fnmatch import fnmatchcase  # noqa: PLC0415

    return all(fnmatchcase(getattr(f, k), exc[k]) for k in ("check", "file", "resource", "statement"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exceptions", type=Path)
    ap.add_argument("--verbose", action="store_true", help="print every statement of every policy")
    args = ap.parse_args()
    exceptions = load_exceptions(args.exceptions)

    responder, forwarder = cfn.load(cfn.RESPONDER), cfn.load(cfn.FORWARDER)
    findings: dict[tuple[str, str, str, str, str], Finding] = {}
    passed = 0
    checked_policies: dict[tuple[str, str, str], set[str]] = {}
    runs = [("template.yaml", c, True) for c in cfn.RESPONDER_COMBOS] + [
        ("region-forwarder.yaml", c, False) for c in cfn.FORWARDER_COMBOS
    ]
    print(
        "=== Policies per parameter combination (expanded with the SAM translator where SAM; intrinsic functions "
        "resolved, resources with made-up names)"
    )
    for file, combo, is_sam in runs:
        template = cfn.sam_transform(responder, combo, ("code-bucket", "code.zip"))[0] if is_sam else forwarder
        policies, problems, resolver = extract(template, combo, file)
        results: list[Finding] = list(problems)
        counts = {"parliament": 0, "statements": 0, "tls": 0}
        for p in policies:
            checked_policies.setdefault((file, p.resource, p.what), set()).add(combo.name)
            pf = run_parliament(p)
            results += pf
            counts["parliament"] += 1
            passed += 0 if pf else 1
            sf, n = check_statements(p)
            results += sf
            counts["statements"] += n
            passed += n - len({f.statement for f in sf})
        tf, n = check_tls(policies, resolver, file)
        results += tf
        counts["tls"] = n
        passed += n - len(tf)
        ident = sum(p.kind == "identity" for p in policies)
        print(
            f"  {file} {combo.name}: {ident} identity and {len(policies) - ident} resource policies, "
            f"{counts['statements']} Allow statements, {counts['tls']} queues/topics -> {len(results)} finding(s)"
        )
        for f in results:
            key = (f.check, f.file, f.resource, f.statement, f.message)
            findings.setdefault(key, f).combos.append(combo.name)

    print("\n=== Policies checked (resource: policy [combinations])")
    for (file, res, what), combos in sorted(checked_policies.items()):
        print(f"  {file} {res}: {what} [{len(combos)}/{len(runs)}]")

    accepted, failed = [], []
    for f in findings.values():
        exc = next((e for e in exceptions if matches(e, f)), None)
        if exc:
            exc["used"] += 1
            f.reason = exc["reason"]
            accepted.append(f)
        else:
            failed.append(f)

    def show(f: Finding) -> str:
        combos = "all combinations" if len(set(f.combos)) == len(runs) else ", ".join(sorted(set(f.combos)))
        return f"[{f.check}] {f.file} {f.resource} statement {f.statement}: {f.message} ({combos})"

    print(f"\n=== Accepted findings ({len(accepted)}): exceptions recorded in scripts/check-policies.sh")
    for f in sorted(accepted, key=show):
        print(f"  accepted {show(f)}\n           because: {f.reason}")
    stale = [e for e in exceptions if not e["used"]]
    print(f"\n=== Findings ({len(failed)})")
    for f in sorted(failed, key=show):
        print(f"  FINDING  {show(f)}")
    for e in stale:
        print(
            f"  FINDING  [stale-exception] {e['check']} | {e['file']} | {e['resource']} | {e['statement']}: "
            "matches no finding any more: remove it from scripts/check-policies.sh"
        )
    n_failed = len(failed) + len(stale)
    print(f"\npolicies: {passed} passed, {n_failed} failed")
    return 1 if n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
