"""Outbound calls: the allow-list, redirects, Idempotency-Key, capped bodies, JSON."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import outbound_allow_list
from flows import engine, loader, outbound
from flows.models import Execution, SuspensionToken, TaskRun

CALL = """\
id: call
namespace: acme.ops
inputs:
  - id: url
    type: STRING
tasks:
  - id: call
    type: Request
    uri: "{{ inputs.url }}"
    allowFailed: ALLOW_FAILED
"""


class Recorder:
    """A local server: /ok answers 200, /redirect?to=URL 302, /error 500 (10 KB),
    /big 200 (10 KB), /loop redirects to itself. Keeps (path, headers, body)."""

    def __init__(self):
        self.received: list[tuple[str, dict, bytes]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                recorder.received.append((self.path, dict(self.headers), body))
                if self.path.startswith("/redirect?to="):
                    self.reply(302, b"", Location=self.path.split("=", 1)[1])
                elif self.path == "/loop":
                    self.reply(302, b"", Location="/loop")
                elif self.path == "/error":
                    self.reply(500, b"x" * 10_000 + b"END")
                elif self.path == "/big":
                    self.reply(200, b"y" * 10_000)
                else:
                    self.reply(200, b'{"ok": true}')

            do_POST = do_GET

            def reply(self, code, body, **headers):
                self.send_response(code)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str = "/ok", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    @property
    def paths(self) -> list[str]:
        return [path for path, _, _ in self.received]


@pytest.fixture
def server():
    recorder = Recorder()
    yield recorder
    recorder.httpd.shutdown()
    recorder.httpd.server_close()


@pytest.fixture
def call(make_flow, run_on_commit, settings):
    """Run the one-Request flow against `url`; return its task run."""
    settings.SIGNOFF_OUTBOUND_ALLOW = []

    def run(url: str, *, allow_failed: bool = False) -> TaskRun:
        source = CALL.replace("ALLOW_FAILED", str(allow_failed).lower())
        execution = run_on_commit(
            engine.start_execution, make_flow(source), {"url": url}
        )
        return TaskRun.objects.get(execution=execution, task_id="call")

    return run


class FakeDNS(dict):
    """Each name maps to its successive answers (lists of addresses); `asked` logs."""

    def __init__(self):
        super().__init__()
        self.asked: list[str] = []


@pytest.fixture
def dns(monkeypatch):
    fake, real = FakeDNS(), socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in fake:
            return real(host, port, *args, **kwargs)
        fake.asked.append(host)
        answer = fake[host][min(fake.asked.count(host), len(fake[host])) - 1]
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answer
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return fake


def test_a_loopback_target_is_refused_by_default_naming_the_setting(call, server):
    run = call(server.url())
    assert run.state == TaskRun.State.FAILED
    assert run.error == (
        f"GET {server.url()} refused: 127.0.0.1 is a loopback address; "
        "list it in SIGNOFF_OUTBOUND_ALLOW to allow it"
    )
    assert server.received == []
    assert Execution.objects.get(pk=run.execution_id).state == Execution.State.FAILED


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("10.1.2.3", "a private address"),
        ("192.168.0.10", "a private address"),
        ("fd12::1", "a private address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("169.254.10.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("100.64.0.7", "a shared (CGNAT) address"),
        ("224.0.0.1", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),
        ("240.0.0.1", "a reserved address"),
    ],
)
def test_non_public_addresses_are_refused_with_their_kind(settings, address, kind):
    settings.SIGNOFF_OUTBOUND_ALLOW = []
    with pytest.raises(outbound.Refused) as refused:
        outbound.vet(address, 80)
    assert str(refused.value) == (
        f"{address} is {kind}; list it in SIGNOFF_OUTBOUND_ALLOW to allow it"
    )


def test_public_addresses_pass_and_metadata_names_are_refused(settings):
    settings.SIGNOFF_OUTBOUND_ALLOW = []
    assert outbound.vet("8.8.8.8", 443) == [outbound.ipaddress.ip_address("8.8.8.8")]
    assert outbound.vet("2606:4700::1111", 443)
    with pytest.raises(outbound.Refused, match="metadata.google.internal is a cloud"):
        outbound.vet("metadata.google.internal", 80)


def test_every_resolved_address_is_checked(settings, dns):
    settings.SIGNOFF_OUTBOUND_ALLOW = []
    dns["mixed.example"] = [["8.8.8.8", "2001:4860::8888", "10.0.0.9"]]
    with pytest.raises(outbound.Refused) as refused:
        outbound.vet("mixed.example", 80)
    assert str(refused.value).startswith("mixed.example (10.0.0.9) is a private")
    dns["six.example"] = [["8.8.8.8", "fd00::5"]]
    with pytest.raises(outbound.Refused, match=r"six.example \(fd00::5\)"):
        outbound.vet("six.example", 80)


@pytest.mark.parametrize("entry", ["127.0.0.1", "127.0.0.0/8", "localhost"])
def test_a_listed_address_range_or_name_is_allowed(call, server, settings, entry):
    url = server.url(host="localhost" if entry == "localhost" else "127.0.0.1")
    run = call(url)  # the fixture empties the list; set it after
    assert run.state == TaskRun.State.FAILED and server.received == []
    settings.SIGNOFF_OUTBOUND_ALLOW = [entry]
    run = call(url)
    assert run.state == TaskRun.State.SUCCESS, run.error
    assert run.outputs["code"] == 200 and run.outputs["body"] == '{"ok": true}'
    assert server.paths == ["/ok"]


def test_a_listed_range_does_not_allow_its_neighbours(settings):
    settings.SIGNOFF_OUTBOUND_ALLOW = ["10.0.0.0/24", "intranet.example"]
    assert outbound.vet("10.0.0.200", 80)
    with pytest.raises(outbound.Refused, match="10.0.1.1 is a private address"):
        outbound.vet("10.0.1.1", 80)


def test_a_redirect_to_an_unlisted_private_address_is_refused(call, server, settings):
    settings.SIGNOFF_OUTBOUND_ALLOW = ["localhost"]
    target = server.url("/ok")  # 127.0.0.1: not listed, though localhost is
    start = server.url(f"/redirect?to={target}", host="localhost")
    run = call(start)
    assert run.state == TaskRun.State.FAILED
    assert run.error == (
        f"GET {start} refused: 127.0.0.1 is a loopback address; "
        "list it in SIGNOFF_OUTBOUND_ALLOW to allow it"
    )
    assert server.paths == [f"/redirect?to={target}"]  # the second hop never left


def test_redirects_to_allowed_places_are_followed_and_bounded(call, server, settings):
    settings.SIGNOFF_OUTBOUND_ALLOW = ["127.0.0.1"]
    run = call(server.url(f"/redirect?to={server.url('/ok')}"))
    assert run.state == TaskRun.State.SUCCESS
    assert server.paths[-1] == "/ok"
    server.received.clear()
    run = call(server.url("/loop"))
    assert run.state == TaskRun.State.FAILED
    assert "Exceeded maximum allowed redirects" in run.error
    assert len(server.received) == outbound.MAX_REDIRECTS + 1


def test_the_connection_goes_to_the_vetted_address_with_the_name_as_host(
    call, server, settings, dns
):
    # The second answer (a rebinding to the metadata address) is never asked for.
    dns["svc.example"] = [["127.0.0.1"], ["169.254.169.254"]]
    settings.SIGNOFF_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    run = call(server.url(host="svc.example"))
    assert run.state == TaskRun.State.SUCCESS, run.error
    assert dns.asked == ["svc.example"]
    ((_, headers, _),) = server.received
    assert headers["Host"] == f"svc.example:{server.port}"


def test_tls_keeps_the_name_for_sni_and_the_certificate(settings, dns, monkeypatch):
    settings.SIGNOFF_OUTBOUND_ALLOW = []
    dns["api.example"] = [["93.184.215.14"]]
    seen = {}

    def handle(transport, request):
        seen.update(url=str(request.url), host=request.headers["Host"])
        seen["sni"] = request.extensions.get("sni_hostname")
        return httpx.Response(204)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle)
    response = outbound.send("GET", "https://api.example/x", idempotency_key="k")
    assert seen == {
        "url": "https://93.184.215.14/x",
        "host": "api.example",
        "sni": "api.example",
    }
    assert str(response.request.url) == "https://api.example/x"


def test_a_rewritten_target_is_checked_too(call, server, settings):
    settings.SIGNOFF_OUTBOUND_REWRITES = {"https://reqres.in": server.url("")}
    run = call("https://reqres.in/api/products")
    assert run.state == TaskRun.State.FAILED
    assert "127.0.0.1 is a loopback address" in run.error
    settings.SIGNOFF_OUTBOUND_ALLOW = ["127.0.0.1"]
    assert call("https://reqres.in/api/products").state == TaskRun.State.SUCCESS
    assert server.paths == ["/api/products"]


IN_A_BRANCH = """\
id: keyed
namespace: acme.ops
inputs:
  - id: url
    type: STRING
tasks:
  - id: route
    type: If
    condition: "yes"
    then:
      - id: notify
        type: Request
        uri: "{{ inputs.url }}"
"""


def test_each_call_sends_the_execution_and_task_path_as_idempotency_key(
    make_flow, run_on_commit, server, settings
):
    settings.SIGNOFF_OUTBOUND_ALLOW = ["127.0.0.1"]
    flow = make_flow(IN_A_BRANCH)
    execution = run_on_commit(engine.start_execution, flow, {"url": server.url()})
    run = TaskRun.objects.get(execution=execution, task_id="notify")
    assert run.state == TaskRun.State.SUCCESS and run.path == "route.then.notify"
    ((_, headers, _),) = server.received
    assert headers["Idempotency-Key"] == f"{execution.id}/route.then.notify"


def test_error_bodies_are_capped_in_the_error_and_in_outputs(call, server, settings):
    settings.SIGNOFF_OUTBOUND_ALLOW = ["127.0.0.1"]
    run = call(server.url("/error"))
    assert run.state == TaskRun.State.FAILED
    assert run.error.startswith(f"GET {server.url('/error')} answered 500: xxx")
    assert run.error.endswith("… (truncated)") and "END" not in run.error
    assert len(run.error.encode()) < outbound.BODY_CAP_BYTES + 200
    run = call(server.url("/error"), allow_failed=True)
    assert run.state == TaskRun.State.SUCCESS and run.outputs["code"] == 500
    assert run.outputs["body"] == "x" * outbound.BODY_CAP_BYTES + "… (truncated)"
    assert run.outputs["body"] == outbound.cap_body("x" * 10_000 + "END")


def test_a_successful_body_is_kept_whole(call, server, settings):
    settings.SIGNOFF_OUTBOUND_ALLOW = ["127.0.0.1"]
    run = call(server.url("/big"))
    assert run.state == TaskRun.State.SUCCESS and run.outputs["body"] == "y" * 10_000


def test_the_cap_counts_utf8_bytes_and_never_splits_a_character():
    assert outbound.cap_body("é" * 2048) == "é" * 2048  # exactly 4 KB
    assert outbound.cap_body("é" * 2049) == "é" * 2048 + "… (truncated)"
    assert outbound.cap_body("a" + "é" * 2048) == "a" + "é" * 2047 + "… (truncated)"


def test_vacation_example_sends_valid_json_for_a_name_with_quote_and_backslash(
    tenant, run_on_commit, server, settings
):
    settings.SIGNOFF_OUTBOUND_ALLOW = ["127.0.0.1"]
    settings.SIGNOFF_OUTBOUND_REWRITES = {"https://reqres.in": server.url("")}
    name = 'Rick "The Roll" Astley \\o/'
    source = Path(settings.BASE_DIR) / "flows/examples/vacation_approval_process.yaml"
    flow = loader.load_flow(tenant, source.read_text()).flow
    execution = run_on_commit(engine.start_execution, flow, {"request.name": name})
    ((path, headers, body),) = server.received
    assert path == "/api/slack"
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["channel"] == "#vacation"
    assert payload["text"].startswith(f"Validate holiday request for {name}. To ")
    assert payload["text"].endswith(
        f"/company.team/vacation_approval_process/{execution.id}"
    )

    token = SuspensionToken.objects.get(execution=execution)
    run_on_commit(engine.resume, token, {})
    (_, _, products) = server.received[1]
    assert json.loads(products)["name"] == name
    assert Execution.objects.get(pk=execution.pk).state == Execution.State.SUCCESS


def test_a_body_template_that_is_not_json_is_rendered_as_text(
    make_flow, run_on_commit, server, settings
):
    settings.SIGNOFF_OUTBOUND_ALLOW = ["127.0.0.1"]
    flow = make_flow(
        """\
        id: text_body
        namespace: acme.ops
        tasks:
          - id: post
            type: Request
            method: POST
            uri: URL
            body: 'n={{ 1 + 1 }} {"raw": {{ [1, "a"] | json }}}'
        """.replace("URL", server.url())
    )
    run_on_commit(engine.start_execution, flow, {})
    assert server.received[0][2] == b'n=2 {"raw": [1, "a"]}'


def test_an_invalid_range_in_the_setting_stops_the_start():
    assert outbound_allow_list(" a.example , 10.0.0.0/8,,::1 ") == [
        "a.example",
        "10.0.0.0/8",
        "::1",
    ]
    with pytest.raises(ImproperlyConfigured, match="SIGNOFF_OUTBOUND_ALLOW"):
        outbound_allow_list("10.0.0.0/33")
