"""A local HTTP endpoint that records what it is POSTed (callbacks, chat webhooks)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Answers each POST with `statuses` in turn (then 200); `received` holds
    (headers, body) per request."""

    path = "/hooks/signoff"

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.received: list = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.record(dict(self.headers), body)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}{self.path}"

    def record(self, headers: dict, body: bytes) -> None:
        self.received.append((headers, body))

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class ChatReceiver(Receiver):
    """A local incoming webhook; `received` holds each JSON payload."""

    path = "/services/T0/B0/x"

    def record(self, headers: dict, body: bytes) -> None:
        self.received.append(json.loads(body))
