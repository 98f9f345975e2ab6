"""The API's request and response shapes.

The start endpoint validates its envelope with StartExecutionSerializer; answers and
inputs themselves are validated by approvals.forms, like on the screens. The other
serializers document the bodies built in approvals.api.payloads (OpenAPI schema).
"""

from rest_framework import serializers

from flows import text

# Pages of the API's lists: ?limit=1..MAX_PAGE_SIZE, ?offset=0..MAX_OFFSET.
MAX_PAGE_SIZE = 500
MAX_OFFSET = 1_000_000_000


class PageQuerySerializer(serializers.Serializer):
    """A list's query: checked by approvals.api.common.Pagination, and the schema."""

    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        help_text="Page size (default 50).",
    )
    offset = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_OFFSET, help_text="Items to skip."
    )


class StartExecutionSerializer(serializers.Serializer):
    inputs = serializers.DictField(
        required=False,
        default=dict,
        help_text="The flow's inputs; dotted ids as flat keys or nested maps.",
    )
    labels = serializers.DictField(
        child=serializers.CharField(), required=False, default=dict
    )

    def validate_labels(self, labels):
        for name in labels:
            problem = text.problem(name)
            if problem:
                raise serializers.ValidationError(f"Label name {name!r}: {problem}")
        return labels

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {
                    name: ["Unknown field; expected inputs or labels."]
                    for name in unknown
                }
            )
        return attrs


# ---------------------------------------------------------------- errors


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class InvalidDataSerializer(ErrorSerializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by field (dotted input id, `__all__` for the whole body).",
    )


class WaitingTokenSerializer(serializers.Serializer):
    tokenId = serializers.UUIDField()
    path = serializers.CharField()


class ConsumedSerializer(ErrorSerializer):
    state = serializers.CharField(help_text="RESUMED, CANCELLED, or the execution's.")
    resolvedBy = serializers.CharField(allow_null=True)
    resolvedAt = serializers.DateTimeField(allow_null=True)
    executionId = serializers.UUIDField()
    waiting = WaitingTokenSerializer(
        many=True,
        required=False,
        help_text="When an execution id was given and several of its pauses wait: "
        "answer one of these by its token id.",
    )


class ExpiredSerializer(ErrorSerializer):
    expiredAt = serializers.DateTimeField()
    executionId = serializers.UUIDField()


class ContextChangedSerializer(ErrorSerializer):
    fingerprint = serializers.CharField(
        help_text="The fingerprint of what it shows now."
    )
    executionId = serializers.UUIDField()


class KeyReusedSerializer(ErrorSerializer):
    tokenId = serializers.UUIDField(help_text="The suspension the key was used for.")


# ---------------------------------------------------------------- bodies


class ResumeAcceptedSerializer(serializers.Serializer):
    executionId = serializers.UUIDField()
    status = serializers.ChoiceField(
        ["Resuming", "Waiting"],
        help_text="Waiting: the answer counts, but the quorum needs more approvers.",
    )
    approvals = serializers.IntegerField(
        required=False, help_text="Approving answers so far (Waiting only)."
    )
    required = serializers.IntegerField(
        required=False, help_text="Approvals needed (Waiting only)."
    )


MAX_BULK_ITEMS = 100


class BulkResumeSerializer(serializers.Serializer):
    """POST /api/suspensions/bulk-resume: the ids, and the one answer for all."""

    tokens = serializers.ListField(
        child=serializers.UUIDField(),
        min_length=1,
        max_length=MAX_BULK_ITEMS,
        help_text=f"Suspension ids (or execution ids), 1 to {MAX_BULK_ITEMS}; "
        "a repeated id is answered once.",
    )
    data = serializers.DictField(
        required=False,
        default=dict,
        help_text="The answer given to each, as the single resume's body.",
    )


class BulkItemSerializer(serializers.Serializer):
    tokenId = serializers.CharField(help_text="The id as sent.")
    status = serializers.IntegerField(
        help_text="The code the single resume would have answered: "
        "202, 400, 403, 404, 409, 410 or 422."
    )
    body = serializers.DictField(help_text="The body it would have answered.")


class BulkResultSerializer(serializers.Serializer):
    results = BulkItemSerializer(many=True)
    accepted = serializers.IntegerField(help_text="Items answered 202.")
    refused = serializers.IntegerField(help_text="Items refused.")


class FlowRefSerializer(serializers.Serializer):
    namespace = serializers.CharField()
    id = serializers.CharField()
    revision = serializers.IntegerField()


class StartedSerializer(serializers.Serializer):
    executionId = serializers.UUIDField()
    state = serializers.CharField()
    statusUrl = serializers.CharField()
    queued = serializers.CharField(
        allow_null=True, help_text="Why it is QUEUED (its flow is paused), or null."
    )


class ExecutionSummarySerializer(serializers.Serializer):
    executionId = serializers.UUIDField()
    state = serializers.CharField()
    tenant = serializers.CharField()
    flow = FlowRefSerializer()
    createdAt = serializers.DateTimeField()
    startedAt = serializers.DateTimeField(allow_null=True)
    endedAt = serializers.DateTimeField(allow_null=True)
    statusUrl = serializers.CharField()


class TaskRunSerializer(serializers.Serializer):
    taskId = serializers.CharField()
    path = serializers.CharField()
    state = serializers.CharField()
    attempt = serializers.IntegerField()
    startedAt = serializers.DateTimeField(allow_null=True)
    endedAt = serializers.DateTimeField(allow_null=True)


class FieldSchemaSerializer(serializers.Serializer):
    """One field an answer may carry (flows.inputs.to_schema)."""

    id = serializers.CharField()
    type = serializers.CharField()
    displayName = serializers.CharField()
    description = serializers.CharField()
    required = serializers.BooleanField()
    defaults = serializers.JSONField(allow_null=True)
    values = serializers.ListField(child=serializers.CharField())
    min = serializers.JSONField(allow_null=True)
    max = serializers.JSONField(allow_null=True)
    validator = serializers.CharField(allow_null=True)
    itemType = serializers.CharField(allow_null=True)


class ApprovalsSerializer(serializers.Serializer):
    required = serializers.IntegerField()
    received = serializers.IntegerField()


class AssigneesSerializer(serializers.Serializer):
    users = serializers.ListField(
        child=serializers.CharField(), help_text="User names, matched exactly."
    )
    groups = serializers.ListField(
        child=serializers.CharField(),
        help_text="Group names: their members may answer. Both lists empty: any "
        "member of the tenant may.",
    )


class StateDetailsSerializer(serializers.Serializer):
    """A pause in the words of Prefect's `state_details`."""

    flow_run_id = serializers.UUIDField(help_text="The execution's id.")
    pause_timeout = serializers.DateTimeField(
        allow_null=True, help_text="The deadline."
    )
    pause_key = serializers.CharField(help_text="The paused task run's path.")
    run_input_keyset = serializers.DictField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="Keys of the expected input (null: the pause expects no fields).",
    )
    pause_reschedule = serializers.BooleanField()


class PauseSerializer(serializers.Serializer):
    tokenId = serializers.UUIDField()
    path = serializers.CharField(help_text="The paused task's path in the task tree.")
    screen = serializers.CharField()
    message = serializers.CharField()
    deadline = serializers.DateTimeField(allow_null=True)
    expected = FieldSchemaSerializer(many=True)
    approvals = ApprovalsSerializer()
    assignees = AssigneesSerializer()
    resumeUrl = serializers.CharField()
    fingerprint = serializers.CharField(
        help_text="sha256 of what the screen shows; send it as `If-Match` to "
        "answer only if that is still what it shows (412 otherwise)."
    )
    stateDetails = StateDetailsSerializer()


class PauseRecordSerializer(serializers.Serializer):
    tokenId = serializers.UUIDField()
    path = serializers.CharField(
        allow_null=True, help_text="The paused task run's path."
    )
    screen = serializers.CharField()
    state = serializers.ChoiceField(["WAITING", "RESUMED", "EXPIRED", "CANCELLED"])
    outcome = serializers.CharField(
        allow_null=True,
        help_text=(
            'What became of it, in words: "Approved by ann", "Rejected by ann: '
            'not this week", "Expired", "Cancelled by admin"; null while it waits.'
        ),
    )
    resolvedBy = serializers.CharField(allow_null=True)
    resolvedAt = serializers.DateTimeField(allow_null=True)


class ExecutionStatusSerializer(ExecutionSummarySerializer):
    outcome = serializers.CharField(
        allow_null=True,
        help_text=(
            'The latest decision in words (e.g. "Rejected by manager: not this '
            'week", "Auto-approved"); null before any pause was resolved.'
        ),
    )
    inputs = serializers.DictField()
    outputs = serializers.DictField(
        child=serializers.DictField(), help_text="Outputs of finished tasks by task id."
    )
    taskRuns = TaskRunSerializer(many=True)
    pause = PauseSerializer(
        allow_null=True, help_text="The oldest open suspension, if any."
    )
    pauses = PauseRecordSerializer(
        many=True, help_text="Every suspension of the execution, oldest first."
    )


class SuspensionSerializer(serializers.Serializer):
    tokenId = serializers.UUIDField()
    executionId = serializers.UUIDField()
    flow = FlowRefSerializer()
    screen = serializers.CharField()
    message = serializers.CharField()
    deadline = serializers.DateTimeField(allow_null=True)
    createdAt = serializers.DateTimeField()
    approvals = ApprovalsSerializer()


class SuspensionDetailSerializer(SuspensionSerializer):
    state = serializers.CharField()
    assignees = AssigneesSerializer()
    expected = FieldSchemaSerializer(many=True)
    resumeUrl = serializers.CharField()


class PageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class ExecutionPageSerializer(PageSerializer):
    results = ExecutionSummarySerializer(many=True)


class SuspensionPageSerializer(PageSerializer):
    results = SuspensionSerializer(many=True)


class HeldCountsSerializer(serializers.Serializer):
    queued = serializers.IntegerField(help_text="Not started: the flow is paused.")
    held = serializers.IntegerField(help_text="Started, held: no new step starts.")
    unfinished = serializers.IntegerField()


class FlowStateSerializer(serializers.Serializer):
    namespace = serializers.CharField()
    flowId = serializers.CharField()
    tenant = serializers.CharField()
    state = serializers.CharField(help_text="`active` or `paused`.")
    latestRevision = serializers.IntegerField()
    executions = HeldCountsSerializer()


class FlowHoldSerializer(FlowStateSerializer):
    affected = serializers.IntegerField(
        help_text="How many executions this call held, released or cancelled."
    )


class ExecutionHoldSerializer(serializers.Serializer):
    executionId = serializers.UUIDField()
    state = serializers.CharField()
    hold = serializers.CharField(
        allow_blank=True,
        help_text="Why no new step starts: `flow`, `execution`, or empty.",
    )
    statusUrl = serializers.CharField()


class HoldConflictSerializer(ErrorSerializer):
    state = serializers.CharField(
        help_text="The flow's state (active, paused) or the execution's."
    )
    by = serializers.CharField(
        required=False, help_text="Who cancelled it, when it was cancelled."
    )


class ServerSentEventSerializer(serializers.Serializer):
    """One event of GET /api/executions/{id}/events (Open API 3.0: the schema of a
    text/event-stream describes each event)."""

    id = serializers.CharField(help_text="The event's seq in its execution.")
    event = serializers.CharField(
        help_text="`<subject>.<to state>`, e.g. `token.RESUMED`, `execution.SUCCESS`."
    )
    data = serializers.CharField(
        help_text="The event as JSON: seq, at, subject, subjectId, label, from, to, "
        "actor, channel, data (secrets shown as ******)."
    )
    retry = serializers.IntegerField(
        required=False, help_text="Milliseconds to wait before reconnecting."
    )


# ---------------------------------------------------------------- seed routes


class InvokedPauseSerializer(serializers.Serializer):
    """What an Okta Pause hands the caller."""

    tokenId = serializers.UUIDField()
    message = serializers.CharField(help_text="The Pause's rendered message.")
    expected = FieldSchemaSerializer(many=True)
    onPause = serializers.DictField(
        help_text="Outputs of the Pause's onPause task, by task id."
    )
    fingerprint = serializers.CharField()
    resumeUrl = serializers.CharField(
        help_text="/api/flows/{ns}/{flowId}/resume/{executionId}"
    )


class InvokedSerializer(serializers.Serializer):
    executionId = serializers.UUIDField()
    state = serializers.CharField()
    statusUrl = serializers.CharField()
    pause = InvokedPauseSerializer(
        allow_null=True, help_text="Set when the execution waits on a pause."
    )


class InvokeQuerySerializer(serializers.Serializer):
    wait = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=60,
        help_text="Seconds to wait for the pause or the end (default 30).",
    )
    tenant = serializers.CharField(required=False, help_text="A tenant's slug.")


class PrefectResumeSerializer(serializers.Serializer):
    run_input = serializers.DictField(
        required=False, default=dict, help_text="The answer's fields."
    )


class PrefectStateSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.CharField(help_text="PAUSED, RUNNING, COMPLETED, ...")
    name = serializers.CharField()
    timestamp = serializers.DateTimeField()
    message = serializers.CharField(allow_null=True)
    state_details = StateDetailsSerializer()


class PrefectDetailsSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        ["accept_details", "reject_details", "abort_details"]
    )
    reason = serializers.CharField(required=False)


class OrchestrationResultSerializer(serializers.Serializer):
    state = PrefectStateSerializer(allow_null=True)
    status = serializers.ChoiceField(["ACCEPT", "REJECT", "ABORT"])
    details = PrefectDetailsSerializer()


class KestraErrorSerializer(ErrorSerializer):
    message = serializers.CharField(help_text="Kestra's name for `detail`.")


class ApprovalRequestSerializer(serializers.Serializer):
    """POST /api/approval-requests: a one-Pause execution without a flow to write."""

    message = serializers.CharField(
        max_length=10_000, allow_blank=True, required=False, default=""
    )
    screen = serializers.ChoiceField(choices=["approval", "form", "review"])
    inputs = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        default=list,
        max_length=100,
        help_text="onResume-style input definitions (id, type, ...).",
    )
    assignees = serializers.DictField(
        required=False,
        default=dict,
        help_text='{"users": [...], "groups": [...]}',
    )
    deadline = serializers.CharField(
        max_length=100,
        help_text="An ISO 8601 duration (PT4H) or date-time (2026-12-01T18:00:00Z).",
    )
    behavior = serializers.ChoiceField(
        choices=["RESUME", "WARN", "FAIL", "CANCEL"],
        required=False,
        default="CANCEL",
        help_text="What the deadline does: CANCEL (default) ends the request.",
    )
    callbackUrl = serializers.URLField(max_length=2000, required=False, default="")

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown field."] for name in unknown}
            )
        return attrs


class ApprovalRequestCreatedSerializer(serializers.Serializer):
    requestId = serializers.UUIDField()
    tokenId = serializers.UUIDField()
    executionId = serializers.UUIDField()
    state = serializers.CharField()
    expiresAt = serializers.DateTimeField(allow_null=True)
    screenUrl = serializers.URLField()
    completeUrl = serializers.URLField(
        help_text="POST the answer here; its `sig` is its only credential."
    )
    callbackSecret = serializers.CharField(
        allow_null=True,
        help_text="Verifies the Signoff-Signature header; shown only in this reply.",
    )


# ---------------------------------------------------------------- hand-overs


class DelegateSerializer(serializers.Serializer):
    """The body of a delegation (validated by approvals.delegation.DelegateForm)."""

    to = serializers.CharField(
        max_length=150, help_text="The user name of another member of the tenant."
    )
    note = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, help_text="Why, for them."
    )


class DelegatedSerializer(serializers.Serializer):
    tokenId = serializers.UUIDField()
    executionId = serializers.UUIDField()
    state = serializers.CharField(help_text="WAITING: it waits for its new assignee.")
    assignees = AssigneesSerializer(help_text="Who may answer it now.")
    delegatedTo = serializers.CharField()
    stillAssigned = serializers.BooleanField(
        help_text="The delegator may still answer it (through a group of theirs)."
    )


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, help_text="Why, in words."
    )


class WithdrawnSerializer(ExecutionHoldSerializer):
    outcome = serializers.CharField(
        help_text='In words: "Withdrawn by employee: no longer needed".'
    )
