"""HTTP Request and Slack incoming webhook: outbound calls through flows.outbound."""

import httpx
from django.conf import settings

from flows import outbound, timeouts
from flows.tasks.base import Done, Property, StepContext, TaskError, TaskType

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _call(task: dict, method: str, url: str, **kwargs) -> httpx.Response:
    timeout = timeouts.limit(task, settings.SIGNOFF_HTTP_TIMEOUT_SECONDS)
    try:
        return outbound.send(method, url, timeout=timeout, **kwargs)
    except httpx.HTTPError as exc:
        raise TaskError(f"{method} {url} failed: {exc}") from exc


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
            kwargs["content"] = str(ctx.render(task["body"])).encode()
        response = _call(task, method, uri, **kwargs)
        if response.status_code >= 400 and not task.get("allowFailed", False):
            raise TaskError(
                f"{method} {uri} answered {response.status_code}: {response.text[:500]}"
            )
        return Done(
            outputs={
                "uri": uri,
                "code": response.status_code,
                "headers": dict(response.headers),
                "body": response.text,
            }
        )


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
            body = str(ctx.render(ctx.task["payload"])).encode()
        else:
            body = httpx.Request(
                "POST", "x", json={"text": ctx.render(ctx.task.get("messageText", ""))}
            ).content
        response = _call(
            ctx.task,
            "POST",
            url,
            content=body,
            headers={"Content-Type": "application/json"},
        )
        if response.status_code >= 400:
            raise TaskError(
                f"Slack webhook answered {response.status_code}: {response.text[:500]}"
            )
        return Done(outputs={"code": response.status_code})
