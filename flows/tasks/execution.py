"""Resume: answer another execution's pause from a flow (Kestra's core Resume task).

It runs as a worker step and resumes through flows.engine, like any channel: the
token is consumed with one conditional UPDATE, its inputs validated by the pause's
own onResume definitions. The actor is the system (no person answered) and the
channel is `task`; the RESUMED event's data names the resuming execution and task.
Only executions of the same tenant can be resumed; another tenant's is reported
exactly like a missing one.
"""

from django.core.exceptions import ValidationError

from flows.inputs import InputValidationError
from flows.models import Execution, SuspensionToken
from flows.tasks.base import Done, Property, StepContext, TaskError, TaskType

CHANNEL = "task"


class Resume(TaskType):
    name = "io.kestra.plugin.core.execution.Resume"
    aliases = ("Resume", "io.kestra.core.tasks.executions.Resume")
    properties = {
        "executionId": Property("template", required=True),
        "inputs": Property("map"),
        "namespace": Property("template"),
        "flowId": Property("template"),
    }

    def run(self, ctx: StepContext) -> Done:
        from flows import engine  # the engine imports the task registry

        target = str(ctx.render(ctx.task["executionId"])).strip()
        token = find_waiting(ctx, target)
        data = ctx.render(ctx.task.get("inputs") or {})
        try:
            engine.resume(token, data, actor=None, channel=CHANNEL)
        except InputValidationError as exc:
            raise TaskError(f"Invalid inputs for execution {target}: {exc}") from exc
        except (engine.AlreadyConsumed, engine.Expired) as exc:
            raise TaskError(f"Execution {target} cannot be resumed: {exc}") from exc
        return Done(outputs={"executionId": target, "tokenId": str(token.pk)})


def find_waiting(ctx: StepContext, target: str) -> SuspensionToken:
    """The waiting token of `target`, an execution of this one's tenant (and of the
    given namespace / flow, when named)."""
    from flows import engine

    own = Execution.objects.only("tenant_id").get(pk=ctx.execution_id)
    executions = Execution.objects.filter(tenant_id=own.tenant_id)
    if namespace := ctx.task.get("namespace"):
        executions = executions.filter(flow__namespace=str(ctx.render(namespace)))
    if flow_id := ctx.task.get("flowId"):
        executions = executions.filter(flow__flow_id=str(ctx.render(flow_id)))
    try:
        execution = executions.filter(pk=target).first()
    except ValidationError as exc:  # not a UUID
        raise TaskError(f"No execution {target!r} to resume") from exc
    if execution is None or str(execution.pk) == str(ctx.execution_id):
        raise TaskError(f"No execution {target!r} to resume in this tenant")
    tokens = SuspensionToken.objects.filter(
        execution_id=execution.pk, state=SuspensionToken.State.WAITING
    )
    try:
        return engine.token_for(execution.pk, tokens)
    except engine.SeveralWaiting as exc:
        raise TaskError(f"Execution {target} waits on several pauses") from exc
    except engine.NotFound as exc:
        raise TaskError(f"Execution {target} is not paused") from exc
