"""A task's `timeout` bounds the steps that run outside the transaction."""

import threading
import time

import pytest

from flows import engine, outbound, timeouts
from flows.models import TaskRun
from flows.tasks import get_task_type
from flows.tasks.base import Done, StepContext, TaskError, TaskType


class Blocking(TaskType):
    """Runs until the test releases it (as a hung HTTP call would)."""

    def __init__(self, result=None, error=None):
        self.release, self.result, self.error = threading.Event(), result, error

    def run(self, ctx):
        self.release.wait(10)
        if self.error:
            raise self.error
        return self.result


def context(task: dict) -> StepContext:
    return StepContext("ex", task, {}, None, render=lambda value: value)


def test_a_task_outliving_its_timeout_fails_with_the_duration():
    task_type = Blocking()
    started = time.monotonic()
    with pytest.raises(TaskError, match=r"^timed out after PT0\.2S$"):
        timeouts.run_task(task_type, context({"id": "t", "timeout": "PT0.2S"}))
    assert 0.2 <= time.monotonic() - started < 1
    task_type.release.set()  # the abandoned thread ends


def test_a_task_within_its_timeout_returns_its_result_or_its_error():
    done = Blocking(result=Done(outputs={"ok": 1}))
    done.release.set()
    result = timeouts.run_task(done, context({"id": "t", "timeout": "PT5S"}))
    assert result.outputs == {"ok": 1}
    failing = Blocking(error=TaskError("boom"))
    failing.release.set()
    with pytest.raises(TaskError, match="boom"):
        timeouts.run_task(failing, context({"id": "t", "timeout": "PT5S"}))


def test_inline_tasks_and_tasks_without_timeout_run_in_the_callers_thread():
    seen = []

    class Here(TaskType):
        def run(self, ctx):
            seen.append(threading.current_thread())
            return Done()

    inline = Here()
    inline.runs_inline = True  # e.g. Pause, whose timeout is its deadline
    timeouts.run_task(inline, context({"id": "t", "timeout": "PT0.1S"}))
    timeouts.run_task(Here(), context({"id": "t"}))
    assert seen == [threading.current_thread()] * 2


def test_http_and_shell_get_the_smaller_of_timeout_and_setting(monkeypatch, settings):
    settings.SIGNOFF_HTTP_TIMEOUT_SECONDS = 10
    settings.SIGNOFF_SHELL_TIMEOUT_SECONDS = 60
    assert timeouts.limit({"timeout": "PT2S"}, 10) == 2
    assert timeouts.limit({"timeout": "PT1M"}, 10) == 10
    assert timeouts.limit({}, 10) == 10
    sent = {}

    class Response:
        status_code, headers, text = 200, {}, "ok"

    def send(method, url, *, timeout=None, **kwargs):
        sent["timeout"] = timeout
        return Response()

    monkeypatch.setattr(outbound, "send", send)
    task = {"id": "h", "type": "Request", "uri": "http://x/", "timeout": "PT3S"}
    get_task_type("Request").run(context(task))
    assert sent["timeout"] == 3


def test_outbound_send_never_waits_longer_than_the_setting(monkeypatch, settings):
    settings.SIGNOFF_HTTP_TIMEOUT_SECONDS = 10
    used = []

    class Client:
        def __init__(self, timeout, **kwargs):
            used.append(timeout)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def request(self, *args, **kwargs):
            return "response"

    monkeypatch.setattr(outbound.httpx, "Client", Client)
    outbound.send("GET", "http://x/", idempotency_key="k", timeout=3)
    outbound.send("GET", "http://x/", idempotency_key="k", timeout=30)
    outbound.send("GET", "http://x/", idempotency_key="k")
    assert used == [3, 10, 10]


def test_a_shell_task_gets_the_task_timeout(monkeypatch, settings):
    settings.SIGNOFF_SHELL_TIMEOUT_SECONDS = 60
    seen = {}

    class Result:
        returncode, stdout, stderr = 0, "", ""

    def run(*args, timeout, **kwargs):
        seen["timeout"] = timeout
        return Result()

    monkeypatch.setattr("flows.tasks.shell.subprocess.run", run)
    task = {"id": "s", "commands": ["true"], "timeout": "PT4S"}
    get_task_type("Commands").run(context(task))
    assert seen["timeout"] == 4


def test_a_step_past_its_timeout_fails_the_execution(
    make_flow, run_on_commit, monkeypatch
):
    release = threading.Event()

    def hang(ctx):
        release.wait(10)
        return Done()

    monkeypatch.setattr(get_task_type("Request"), "run", hang)
    flow = make_flow(
        "id: t\nnamespace: acme\ntasks:\n"
        "  - id: call\n    type: Request\n    uri: http://x/\n    timeout: PT0.3S\n"
    )
    execution = run_on_commit(engine.start_execution, flow, {})
    release.set()
    execution.refresh_from_db()
    run = TaskRun.objects.get(execution=execution)
    assert execution.state == "FAILED"
    assert run.state == "FAILED" and run.error == "timed out after PT0.3S"
