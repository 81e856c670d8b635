#!/usr/bin/env python3
"""Print the triage notices that arrive on the local SQS queue subscribed to the notices topic.

    print-notices.py [--queue-url URL] [--idle SECONDS] [--max-seconds SECONDS] [--keep] [--json]

Long-polls the queue (default: $TRIAGE_NOTICE_QUEUE_URL, set by `eval "$(infra/local/up.sh)"`) until no new
message has arrived for --idle seconds (default 5), or --max-seconds have passed (default 120). Each
message is the SNS envelope (the subscription is not raw), so it carries the notice's Subject, its
MessageAttributes and the body. Messages are deleted once printed unless --keep. With --json, one JSON
object per notice: subject, attributes, body, message_id, topic_arn, timestamp.

Run it with the python of the local tool venv (boto3 comes with moto): $TRIAGE_LOCAL_VENV/bin/python.
Exit status 0; the last line on stderr says how many notices were read.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import textwrap
import time
from typing import Any


def envelope(body: str) -> dict[str, Any]:
    """The notice inside an SQS message: the SNS envelope, or (raw delivery) the body alone."""
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and doc.get("Type") == "Notification" and "Message" in doc:
        attrs = {k: (v.get("Type"), v.get("Value")) for k, v in (doc.get("MessageAttributes") or {}).items()}
        return {
            "subject": doc.get("Subject"),
            "attributes": attrs,
            "body": doc["Message"],
            "message_id": doc.get("MessageId"),
            "topic_arn": doc.get("TopicArn"),
            "timestamp": doc.get("Timestamp"),
        }
    return {"subject": None, "attributes": {}, "body": body, "message_id": None, "topic_arn": None, "timestamp": None}


def render(n: int, notice: dict[str, Any]) -> str:
    width = min(shutil.get_terminal_size((100, 20)).columns, 110)
    lines = [f"━━ notice {n} " + "━" * max(0, width - 12 - len(str(n)))]
    lines.append(f"Subject:    {notice['subject'] if notice['subject'] is not None else '(none: raw delivery?)'}")
    if notice["attributes"]:
        attrs = ", ".join(
            f"{k}={v}" + (f" ({t})" if t and t != "String" else "") for k, (t, v) in sorted(notice["attributes"].items())
        )
        lines += textwrap.wrap(attrs, width=width, initial_indent="Attributes: ", subsequent_indent=" " * 12)
    else:
        lines.append("Attributes: (none)")
    if notice["message_id"]:
        lines.append(f"MessageId:  {notice['message_id']}  at {notice['timestamp']}")
    lines.append("")
    lines += ["  " + line for line in str(notice["body"]).splitlines()]
    lines.append("")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queue-url", default=os.environ.get("TRIAGE_NOTICE_QUEUE_URL"))
    ap.add_argument("--idle", type=float, default=5.0, help="stop after this many seconds without a new message")
    ap.add_argument("--max-seconds", type=float, default=120.0, help="stop after this long in any case")
    ap.add_argument("--keep", action="store_true", help="do not delete the messages read")
    ap.add_argument("--json", action="store_true", help="one JSON object per notice")
    ap.add_argument("--drain", action="store_true", help="delete every waiting message without printing it")
    args = ap.parse_args()
    if not args.queue_url:
        ap.error("no --queue-url and no TRIAGE_NOTICE_QUEUE_URL: run `eval \"$(infra/local/up.sh)\"` first")

    import boto3  # from the local tool venv

    sqs = boto3.client("sqs", region_name=os.environ.get("AWS_REGION", "us-east-1"))
    started = last_new = time.monotonic()
    seen: set[str] = set()
    count = 0
    while True:
        now = time.monotonic()
        idle_left = args.idle - (now - last_new)
        if idle_left <= 0 or now - started >= args.max_seconds:
            break
        wait = 0 if args.drain else max(1, min(20, int(idle_left + 0.999)))
        resp = sqs.receive_message(
            QueueUrl=args.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        )
        messages = resp.get("Messages", [])
        if not messages and args.drain:
            break
        for m in messages:
            if not args.keep:
                sqs.delete_message(QueueUrl=args.queue_url, ReceiptHandle=m["ReceiptHandle"])
            if m["MessageId"] in seen:  # redelivered after the visibility timeout (with --keep)
                continue
            seen.add(m["MessageId"])
            last_new = time.monotonic()
            count += 1
            if args.drain:
                continue
            notice = envelope(m["Body"])
            if args.json:
                print(json.dumps(notice), flush=True)
            else:
                print(render(count, notice), flush=True)
    verb = "discarded" if args.drain else "read"
    print(f"print-notices: {count} notice(s) {verb} from {args.queue_url}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
