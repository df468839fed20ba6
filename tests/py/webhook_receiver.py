"""A webhook receiver for the tests (tests/api/webhooks.rs), as a user's
backend would write one: every delivery is checked with the official
`standardwebhooks` package, and each one it accepts is printed as a JSON
line on stdout ({"id", "type", "data", "attempt"}), after a first line
{"port": N}. A bad signature is answered 401 and printed as {"bad": ...}.

    python webhook_receiver.py PORT SECRET [--refuse N] [--redirect URL]

--refuse N answers 503 to the first N requests (the sender must retry);
--redirect URL answers every request 307 to URL (the sender must not follow).
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

port = int(sys.argv[1])
webhook = Webhook(sys.argv[2])
args = sys.argv[3:]
refuse = int(args[args.index("--refuse") + 1]) if "--refuse" in args else 0
redirect = args[args.index("--redirect") + 1] if "--redirect" in args else None
seen = {}


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global refuse
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if redirect is not None:
            emit({"redirected": self.path})
            return self.answer(307, {"Location": redirect})
        try:
            payload = webhook.verify(body, dict(self.headers))
        except WebhookVerificationError as e:
            emit({"bad": str(e)})
            return self.answer(401)
        if refuse > 0:
            refuse -= 1
            emit({"refused": payload["id"]})
            return self.answer(503)
        if payload["id"] != self.headers["webhook-id"]:
            emit({"bad": "body id differs from webhook-id"})
            return self.answer(400)
        seen[payload["id"]] = seen.get(payload["id"], 0) + 1
        emit({"id": payload["id"], "type": payload["type"], "timestamp": payload["timestamp"],
              "data": payload["data"], "attempt": seen[payload["id"]]})
        self.answer(204)

    def answer(self, status, headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a sender that hangs up (killed, or an idle connection closed)


server = Server(("127.0.0.1", port), Handler)
emit({"port": server.server_address[1]})
server.serve_forever()
