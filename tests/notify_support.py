"""Shared by the notification, link and reminder tests: people, a chat receiver."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.contrib.auth.models import Group

from tests.factories import UserFactory

LINK = re.compile(r"https?://[^\s\"<>]+/l/[0-9a-f-]{36}/[A-Za-z0-9_-]+/")


def people(tenant):
    """bob (a user assignee), carol and erin (managers), dan (a manager of
    another tenant), alice (the starter)."""
    managers = Group.objects.create(name="managers")
    made = {
        name: UserFactory(username=name, tenants=[tenant])
        for name in ("alice", "bob", "carol", "erin")
    }
    made["dan"] = UserFactory(username="dan")  # in no tenant of this token
    for name in ("carol", "erin", "dan"):
        made[name].groups.add(managers)
    return made


def links_in(message) -> list[str]:
    return LINK.findall(message.body)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


class ChatReceiver:
    """A local incoming webhook: answers with `statuses` in turn (then 200)."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(json.loads(body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/services/T0/B0/x"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
