"""moto server with DynamoDB requests applied one at a time, as DynamoDB applies each write.

    moto_server_locked.py HOST PORT      (run with the tool venv's python by infra/local/up.sh)

moto's threaded server evaluates a ConditionExpression and then writes without any lock, so two
concurrent conditional writes can both succeed: seen here as 2 notices from 20 concurrent
deliveries of one finding (1 run in 6, on a busy machine). Real DynamoDB never does that, and the
dedupe protocol rests on it (../shared/AWS-FACTS.md). So DynamoDB requests (X-Amz-Target
`DynamoDB_*`) go through one lock; every other service stays concurrent, so SQS long polls do not
hold anything up. Otherwise exactly `moto_server -H HOST -p PORT`.
"""
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    dynamodb = threading.Lock()

    def serialised(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with dynamodb:
                # The whole response is produced under the lock: the write happens while it runs.
                return list(app(environ, start_response))
        return app(environ, start_response)

    run_simple(host, port, serialised, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
