"""HTTP Request and Slack incoming webhook: outbound calls through flows.outbound."""

import json

import httpx
from django.conf import settings

from flows import outbound, timeouts
from flows.tasks.base import Done, Property, StepContext, TaskError, TaskType

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _call(ctx: StepContext, method: str, url: str, **kwargs) -> httpx.Response:
    timeout = timeouts.limit(ctx.task, settings.SIGNOFF_HTTP_TIMEOUT_SECONDS)
    # The same key on every attempt of this task run, so a receiver can drop the
    # duplicate a retry or a worker lost mid-call sends.
    key = f"{ctx.execution_id}/{ctx.task_path or ctx.task['id']}"
    try:
        return outbound.send(
            method, url, idempotency_key=key, timeout=timeout, **kwargs
        )
    except outbound.Refused as exc:
        raise TaskError(f"{method} {url} refused: {exc}") from exc
    except httpx.HTTPError as exc:
        raise TaskError(f"{method} {url} failed: {exc}") from exc


def render_body(ctx: StepContext, template: str) -> bytes:
    """A body template rendered; a JSON one is built as JSON, so its values escape.

    A template that is itself JSON (`{"text": "Hi {{ inputs.name }}"}`) is parsed
    first and each string in it rendered on its own, so a `"` or `\\` in an input
    stays inside its string. Any other template is rendered as text (use
    `{{ value | json }}` there).
    """
    if "{{" in template or "{%" in template:
        try:
            document = json.loads(template)
        except ValueError:
            document = None
        if isinstance(document, dict | list):
            rendered = _render_keys_and_values(ctx, document)
            return json.dumps(rendered).encode()
    return str(ctx.render(template)).encode()


def _render_keys_and_values(ctx: StepContext, value):
    if isinstance(value, dict):
        return {
            str(ctx.render(key)): _render_keys_and_values(ctx, item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_render_keys_and_values(ctx, item) for item in value]
    return ctx.render(value)


class Request(TaskType):
    name = "io.kestra.plugin.core.http.Request"
    aliases = (
        "Request",
        "io.kestra.plugin.fs.http.Request",
        "io.kestra.core.tasks.http.Request",
    )
    properties = {
        "uri": Property("template", required=True),
        "method": Property("enum", choices=METHODS),
        "contentType": Property("string"),
        "body": Property("template"),
        "headers": Property("map"),
        "formData": Property("map"),
        "allowFailed": Property("bool"),
        "options": Property("map"),
    }

    def run(self, ctx: StepContext) -> Done:
        task = ctx.task
        method = task.get("method", "GET")
        uri = ctx.render(task["uri"])
        headers = {k: str(v) for k, v in ctx.render(task.get("headers") or {}).items()}
        if task.get("contentType"):
            headers.setdefault("Content-Type", task["contentType"])
        kwargs = {"headers": headers}
        if task.get("formData") is not None:
            kwargs["data"] = ctx.render(task["formData"])
        elif task.get("body") is not None:
            kwargs["content"] = render_body(ctx, str(task["body"]))
        response = _call(ctx, method, uri, **kwargs)
        failed = response.status_code >= 400
        body = outbound.cap_body(response.text) if failed else response.text
        if failed and not task.get("allowFailed", False):
            raise TaskError(f"{method} {uri} answered {response.status_code}: {body}")
        return Done(
            outputs={
                "uri": uri,
                "code": response.status_code,
                "headers": dict(response.headers),
                "body": body,
            }
        )


def point_kestra_links(body: bytes) -> bytes:
    """Kestra flows link to Kestra's UI (`http://localhost:8080/ui/executions/...`);
    here those links go to Signoff's own `/ui/executions/...` route, which opens
    the execution (SIGNOFF_KESTRA_UI_URLS lists the prefixes so rewritten)."""
    base = settings.SIGNOFF_BASE_URL.rstrip("/").encode()
    for prefix in settings.SIGNOFF_KESTRA_UI_URLS:
        body = body.replace(prefix.rstrip("/").encode() + b"/ui/", base + b"/ui/")
    return body


class SlackIncomingWebhook(TaskType):
    name = "io.kestra.plugin.notifications.slack.SlackIncomingWebhook"
    aliases = ("SlackIncomingWebhook",)
    properties = {
        "url": Property("template", required=True),
        "payload": Property("template"),
        "messageText": Property("template"),
    }

    def run(self, ctx: StepContext) -> Done:
        url = ctx.render(ctx.task["url"])
        if ctx.task.get("payload") is not None:
            body = render_body(ctx, str(ctx.task["payload"]))
        else:
            text = ctx.render(ctx.task.get("messageText", ""))
            body = json.dumps({"text": text}).encode()
        response = _call(
            ctx,
            "POST",
            url,
            content=point_kestra_links(body),
            headers={"Content-Type": "application/json"},
        )
        if response.status_code >= 400:
            raise TaskError(
                f"Slack webhook answered {response.status_code}: "
                f"{outbound.cap_body(response.text)}"
            )
        return Done(outputs={"code": response.status_code})
