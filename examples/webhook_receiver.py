#!/usr/bin/env python3
"""A minimal receiver of Partner Center webhooks: verifies each delivery's signature, drops
repeats by ``webhook-id`` and answers at once.

    pip install standardwebhooks
    WEBHOOK_SECRET=whsec_... python examples/webhook_receiver.py --port 8080 [--path /partner-center]

Register ``https://<your host>/partner-center`` (behind your TLS proxy) as an endpoint under
Organization › Webhooks, or with ``POST /api/v1/webhooks``, and put the secret shown then in
``WEBHOOK_SECRET``. Each verified event is printed as one JSON line
``{"id", "type", "duplicate", "data"}``; a request whose signature does not verify gets 400 and
``{"rejected": ...}`` is printed.

What a receiver must do (Standard Webhooks, https://www.standardwebhooks.com):

1. Read the raw body: the signature is over the exact bytes sent, not a re-encoded JSON.
2. Verify ``webhook-signature`` against ``webhook-id``, ``webhook-timestamp`` and the body with
   the endpoint's secret, and refuse timestamps more than five minutes off (replays). The
   ``standardwebhooks`` library does both (``Webhook(secret).verify(body, headers)``);
   ``verify_by_hand`` below is the same check in plain Python, for a receiver without it.
3. Answer 2xx quickly (within Partner Center's read timeout, 5 s); do the work afterwards. Any
   other answer, a redirect or a timeout is retried with exponential backoff for three days,
   with the same ``webhook-id``: keep the ids you have handled and skip a repeat.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

TOLERANCE_SECONDS = 5 * 60


def verify_by_hand(secret: str, headers: dict[str, str], body: bytes) -> dict:
    """The check ``Webhook(secret).verify`` makes, spelled out. Raises ValueError if it fails."""
    headers = {k.lower(): v for k, v in headers.items()}
    msg_id, timestamp, signatures = (headers.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (msg_id and timestamp and signatures):
        raise ValueError("missing webhook headers")
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        raise ValueError("timestamp too old or too new")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # The header lists one or more "v1,<base64>" separated by spaces (several during a rotation).
    if not any(hmac.compare_digest(expected, sig.split(",", 1)[1]) for sig in signatures.split()
               if sig.startswith("v1,")):
        raise ValueError("no matching signature")
    return json.loads(body)


class Seen:
    """The webhook-ids already handled. Kept in memory here; keep them in your database (a
    unique column) so that a restart does not forget them."""

    def __init__(self):
        self.ids: set[str] = set()
        self.lock = threading.Lock()

    def first_time(self, msg_id: str) -> bool:
        with self.lock:
            if msg_id in self.ids:
                return False
            self.ids.add(msg_id)
            return True


def make_handler(secret: str, path: str, seen: Seen):
    webhook = Webhook(secret)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.split("?", 1)[0] != path:
                return self.answer(404)
            try:
                event = webhook.verify(body, dict(self.headers))
            except WebhookVerificationError as exc:
                emit({"rejected": str(exc)})
                return self.answer(400)
            duplicate = not seen.first_time(self.headers["webhook-id"])
            emit({"id": event["id"], "type": event["type"], "duplicate": duplicate, "data": event["data"]})
            # Hand the event to your own queue here; answer before doing slow work.
            self.answer(204)

        def answer(self, status: int):
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler


def emit(line: dict) -> None:
    sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--path", default="/partner-center")
    args = parser.parse_args()
    secret = os.environ.get("WEBHOOK_SECRET", "")
    if not secret.startswith("whsec_"):
        sys.exit("Set WEBHOOK_SECRET to the endpoint's signing secret (whsec_...).")
    server = ThreadingHTTPServer((args.host, args.port), make_handler(secret, args.path, Seen()))
    emit({"listening": f"http://{args.host}:{args.port}{args.path}"})
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
