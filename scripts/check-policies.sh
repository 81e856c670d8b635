#!/usr/bin/env bash
# Policy lint, offline: every IAM policy (role inline policies, AWS::IAM::Policy and managed policy documents)
# and every resource policy (KMS key policies, SQS queue policies, SNS topic policies, Lambda permissions,
# role trust policies) of infra/template.yaml (expanded with the SAM translator) and
# infra/region-forwarder.yaml, for each parameter combination the deploy rehearsal uses
# (infra/rehearsal/cfn.py), with conditions and intrinsic functions resolved. Checks:
#   parliament        parliament on the identity policies (and IAM's action list on the resource policies)
#   wildcard-action   no Allow with Action `*` or `service:*` (or NotAction)
#   public-principal  no Allow with Principal `*` unless a condition restricts who
#   service-source    every Allow to a service principal (events, sns, s3, cloudwatch, logs, lambda...)
#                     carries the source condition that service documents for that use
#   tls-only          every queue and topic has a policy denying aws:SecureTransport false
# Each finding names the template, the resource and the statement (Sid, or #index), and the combinations
# that produce it. A finding is fixed in the template when it is a real problem; otherwise it gets an
# exception below, with its reason. An exception that no longer matches anything fails the run.
#
#   scripts/check-policies.sh             # ~5 s once the venv exists (the deploy rehearsal's, same pins)
#
# Tools: the venv of infra/rehearsal/requirements.txt (aws-sam-translator, parliament, ... pinned), cached
# under ~/.cache/guardduty-triage/ and keyed by the pinned versions. No AWS access, no server.
# Exits non-zero on any finding without an exception; the last line is 'policies: N passed, M failed'.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-}" in
  -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "check-policies.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac
fail() {
  printf 'check-policies.sh: FAILED: %s\n' "$*" >&2
  exit 1
}
started=$SECONDS
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in infra/rehearsal/

# shellcheck source-path=SCRIPTDIR/..
# shellcheck source=infra/rehearsal/venv.sh
source "$root/infra/rehearsal/venv.sh"
rehearsal_venv
venv_ready=$SECONDS

exceptions="$(mktemp)"
trap 'rm -f "$exceptions"' EXIT
# Accepted findings: CHECK | FILE | RESOURCE | STATEMENT | reason. Shell-style wildcards in the first four.
cat >"$exceptions" <<'EOF'
# Lambda execution roles: the Lambda guide's execution-role trust policy names the service principal only and
# documents no aws:SourceArn/aws:SourceAccount for it (unlike EventBridge's roles, whose trust in
# region-forwarder.yaml has both). Who can attach the role is decided by iam:PassRole, which does not cross
# accounts, so another account cannot have Lambda assume it.
service-source | template.yaml | *FunctionRole | #0 | Lambda documents no source condition for assuming an execution role; iam:PassRole (same account only) decides which functions get the role

# The DynamoDB guide's key policy for a customer managed key gives dynamodb.amazonaws.com Describe/Get/List
# with no condition (DynamoDB describes the key when it creates the table and checks it stays usable). Here
# only kms:DescribeKey, which returns metadata (ARN, state, key spec), no key material and no crypto use.
service-source | template.yaml | TriageKey | DynamoDBDescribesTheKey | DynamoDB documents no source condition for its DescribeKey on a table's key; DescribeKey reveals metadata only

# sns:Receive is not in IAM's action list (nor in parliament's copy of it), but SNS accepts it in topic
# policies (its legacy default topic policy lists SNS:Receive). In the TLS-only Deny it has no effect and does
# no harm: the deny that matters, sns:Publish and sns:Subscribe over plain HTTP, is there (tls-only check).
parliament:UNKNOWN_ACTION | template.yaml | *TopicPolicy | TlsOnly | sns:Receive in the TLS-only Deny is a no-op SNS accepts; Publish and Subscribe carry the deny
EOF

AWS_EC2_METADATA_DISABLED=true "$REHEARSAL_PY" "$root/infra/rehearsal/policies.py" --exceptions "$exceptions" || rc=$?
echo "check-policies.sh: venv $((venv_ready - started)) s, lint $((SECONDS - venv_ready)) s, total $((SECONDS - started)) s"
exit "${rc:-0}"
