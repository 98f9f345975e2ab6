"""Tenants, flows and their revisions, executions, task runs, suspension tokens, events.

States are written only by flows.engine; these classes hold data and constraints.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Tenant(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="tenants", blank=True
    )

    def __str__(self):
        return self.slug


class Flow(models.Model):
    """A flow by its identity; its definitions are FlowRevisions."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="flows")
    namespace = models.CharField(max_length=200)
    flow_id = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    latest_revision = models.PositiveIntegerField(default=0)
    is_paused = models.BooleanField(default=False)
    # Set by a whole-flow cancel: no execution starts until a new revision is loaded.
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "namespace", "flow_id"], name="flow_unique_per_tenant"
            )
        ]
        ordering = ["namespace", "flow_id"]

    def __str__(self):
        return f"{self.namespace}.{self.flow_id}"

    @property
    def latest(self) -> "FlowRevision":
        return self.revisions.get(revision=self.latest_revision)


class FlowRevision(models.Model):
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="revisions")
    revision = models.PositiveIntegerField()
    source = models.TextField()
    definition = models.JSONField()
    checksum = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["flow", "revision"], name="revision_unique_per_flow"
            )
        ]
        ordering = ["flow", "-revision"]

    def __str__(self):
        return f"{self.flow} revision {self.revision}"


class Execution(models.Model):
    class State(models.TextChoices):
        CREATED = "CREATED"
        QUEUED = "QUEUED"
        RUNNING = "RUNNING"
        PAUSED = "PAUSED"
        SUCCESS = "SUCCESS"
        WARNING = "WARNING"
        FAILED = "FAILED"
        CANCELLED = "CANCELLED"
        KILLED = "KILLED"

    TERMINAL = {
        State.SUCCESS,
        State.WARNING,
        State.FAILED,
        State.CANCELLED,
        State.KILLED,
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="executions"
    )
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="executions")
    revision = models.ForeignKey(
        FlowRevision, on_delete=models.PROTECT, related_name="executions"
    )
    state = models.CharField(max_length=16, choices=State, default=State.CREATED)
    inputs = models.JSONField(default=dict, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # While set, a worker owns the next step or a wake-up is in the queue; once it
    # has passed, the sweeper enqueues the execution again (lost worker or message).
    lease_until = models.DateTimeField(null=True, blank=True)
    # The terminal state an ending execution goes to once its `finally` tasks ran
    # (a cancel, or an Approval's CANCEL / SUCCEED); empty while it runs normally.
    ending = models.CharField(max_length=16, choices=State, blank=True)
    # The seq and hash of the audit trail's last event (flows.trail): written with
    # each batch of events, under this row's lock, so a missing tail shows too.
    last_event_seq = models.PositiveIntegerField(default=0, editable=False)
    last_event_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Hold(models.TextChoices):
        """Why no new step starts: its flow is paused, or this execution is."""

        FLOW = "flow"
        EXECUTION = "execution"

    # While set, steps in flight finish but the walker starts, retries or retakes
    # none (flows.engine.holds); one column for both kinds of hold.
    hold = models.CharField(max_length=9, choices=Hold, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tenant", "state", "-created_at"]),
            models.Index(fields=["flow", "-created_at"]),
            models.Index(
                fields=["lease_until"],
                name="execution_lease_idx",
                condition=Q(lease_until__isnull=False),
            ),
        ]

    def __str__(self):
        return str(self.id)


class TaskRun(models.Model):
    class State(models.TextChoices):
        CREATED = "CREATED"
        RUNNING = "RUNNING"
        PAUSED = "PAUSED"
        RETRYING = "RETRYING"
        SUCCESS = "SUCCESS"
        WARNING = "WARNING"
        SKIPPED = "SKIPPED"
        FAILED = "FAILED"
        CANCELLED = "CANCELLED"
        KILLED = "KILLED"

    DONE = {State.SUCCESS, State.WARNING}
    SETTLED = {
        State.SUCCESS,
        State.WARNING,
        State.SKIPPED,
        State.FAILED,
        State.CANCELLED,
        State.KILLED,
    }
    OPEN = {State.CREATED, State.RUNNING, State.PAUSED, State.RETRYING}

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    execution = models.ForeignKey(
        Execution, on_delete=models.CASCADE, related_name="task_runs"
    )
    # Tasks form a tree: a flowable task's children carry their parent and branch.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    branch = models.CharField(max_length=50, blank=True)
    path = models.CharField(max_length=500)
    task_id = models.CharField(max_length=200)
    task_type = models.CharField(max_length=200)
    state = models.CharField(max_length=16, choices=State, default=State.CREATED)
    attempt = models.PositiveIntegerField(default=0)
    # How many attempts a dead worker lost; past SIGNOFF_MAX_ATTEMPTS the run fails.
    losses = models.PositiveIntegerField(default=0)
    # The ForEach values this run is inside, outermost first (taskrun.value is last).
    loop = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # A worker owns a RUNNING step until lease_until; past it, the step is retaken.
    lease_until = models.DateTimeField(null=True, blank=True)
    wake_at = models.DateTimeField(null=True, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    logs = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["started_at", "path"]
        constraints = [
            models.UniqueConstraint(
                fields=["execution", "path"], name="one_task_run_per_path"
            )
        ]
        indexes = [
            models.Index(
                fields=["wake_at"],
                name="taskrun_wake_idx",
                condition=Q(wake_at__isnull=False),
            ),
            # The sweeper's look for running steps whose heartbeat stopped.
            models.Index(
                fields=["lease_until"],
                name="taskrun_lease_idx",
                condition=Q(lease_until__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.path} ({self.state})"


class SuspensionToken(models.Model):
    class State(models.TextChoices):
        WAITING = "WAITING"
        RESUMED = "RESUMED"
        EXPIRED = "EXPIRED"
        CANCELLED = "CANCELLED"

    class Screen(models.TextChoices):
        APPROVAL = "approval"
        FORM = "form"
        REVIEW = "review"
        RESUME = "resume"

    class Behavior(models.TextChoices):
        """On the deadline: a Pause's `behavior` or an Approval's `expireBehavior`."""

        RESUME = "RESUME"
        CONTINUE = "CONTINUE"
        WARN = "WARN"
        FAIL = "FAIL"
        SUCCEED = "SUCCEED"
        CANCEL = "CANCEL"
        KILL = "KILL"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="tokens")
    execution = models.ForeignKey(
        Execution, on_delete=models.CASCADE, related_name="tokens"
    )
    task_run = models.ForeignKey(
        TaskRun, on_delete=models.CASCADE, related_name="tokens"
    )
    state = models.CharField(max_length=16, choices=State, default=State.WAITING)
    screen = models.CharField(max_length=16, choices=Screen, default=Screen.RESUME)
    schema = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    # One line for lists, rendered at pause time (flows.summaries).
    summary = models.CharField(max_length=200, blank=True)
    # {"users": [...], "groups": [...]}, as rendered; the rows below are what
    # access checks match (a user by name, a group by the user's membership).
    assignees = models.JSONField(default=dict, blank=True)
    approvals_required = models.PositiveIntegerField(default=1)
    allow_self_approval = models.BooleanField(default=False)
    behavior = models.CharField(max_length=8, choices=Behavior, default=Behavior.RESUME)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_by_name = models.CharField(max_length=150, blank=True)
    channel = models.CharField(max_length=32, blank=True)
    response = models.JSONField(null=True, blank=True)
    # What the task asked beyond the screen: "kind" (pause | approval), "decisions"
    # (button labels), "commentRequired", "rejectBehavior" (flows.screens reads it).
    options = models.JSONField(default=dict, blank=True)
    # sha256 of a one-click link's secret; the secret itself is never stored.
    secret_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["task_run"],
                condition=Q(state="WAITING"),
                name="one_waiting_token_per_pause",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "state", "expires_at"]),
            models.Index(fields=["tenant", "state", "created_at", "id"]),
            models.Index(
                fields=["expires_at"],
                name="token_waiting_deadline_idx",
                condition=Q(state="WAITING"),
            ),
        ]

    def __str__(self):
        return str(self.id)


class TokenAssignee(models.Model):
    """One user or one group a token is assigned to (indexable, unlike the JSON).

    A user row matches the user of that name; a group row matches the group's
    members. They never match each other: a user called "managers" is not in the
    group "managers" unless they were added to it.
    """

    class Kind(models.TextChoices):
        USER = "user"
        GROUP = "group"

    token = models.ForeignKey(
        SuspensionToken, on_delete=models.CASCADE, related_name="assignee_rows"
    )
    kind = models.CharField(max_length=5, choices=Kind)
    name = models.CharField(max_length=150)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["token", "kind", "name"], name="assignee_once"
            )
        ]
        indexes = [
            models.Index(fields=["kind", "name", "token"], name="assignee_name_idx")
        ]

    def __str__(self):
        return f"{self.kind} {self.name}"


class ExecutionEvent(models.Model):
    """One row per state transition or answer: the audit trail, append-only.

    `hash` is the sha256 of the event's content and of `prev_hash`, the hash of the
    execution's previous event (flows.trail); a database trigger refuses UPDATE
    and DELETE, except for the retention purge (flows.retention).
    """

    class Subject(models.TextChoices):
        EXECUTION = "execution"
        TASK_RUN = "task_run"
        TOKEN = "token"

    # Indexed by the (execution, seq) and (execution, at) indexes below.
    execution = models.ForeignKey(
        Execution, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    seq = models.PositiveIntegerField()
    subject = models.CharField(max_length=16, choices=Subject)
    subject_id = models.CharField(max_length=64)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    channel = models.CharField(max_length=32, blank=True)
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            # One chain per execution: two writers can never fork it.
            models.UniqueConstraint(fields=["execution", "seq"], name="event_seq_once")
        ]
        indexes = [models.Index(fields=["execution", "at"])]

    def __str__(self):
        return f"{self.subject} {self.from_state}->{self.to_state}"


class FlowEvent(models.Model):
    """A whole-flow pause, resume or cancel: who, when, and what it touched.

    Executions have their own hash-chained trail (ExecutionEvent), and each one a
    flow-level change touches gets an event there too; this row is the change
    itself, kept even when the flow had no execution to touch.
    """

    class Action(models.TextChoices):
        PAUSE = "pause"
        RESUME = "resume"
        CANCEL = "cancel"

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=8, choices=Action)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    channel = models.CharField(max_length=32, blank=True)
    at = models.DateTimeField()
    executions = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.flow} {self.action}"


class SweeperLease(models.Model):
    """Who runs the one active sweeper of the cluster, and until when."""

    name = models.CharField(max_length=50, primary_key=True)
    holder = models.CharField(max_length=200)
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name}: {self.holder} until {self.expires_at}"


class ApprovalRequest(models.Model):
    """A one-Pause execution another system asked for, and its callback's progress.

    The completion URL's signature and the callback's signing key are derived from
    SECRET_KEY and this row's id (flows.callbacks), so neither is stored.
    """

    class Callback(models.TextChoices):
        NONE = "NONE"  # no callback URL
        PENDING = "PENDING"  # due (once the token is resolved) or retrying
        DELIVERED = "DELIVERED"
        GAVE_UP = "GAVE_UP"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="approval_requests"
    )
    execution = models.OneToOneField(
        Execution, on_delete=models.CASCADE, related_name="approval_request"
    )
    token = models.OneToOneField(
        SuspensionToken, on_delete=models.CASCADE, related_name="approval_request"
    )
    callback_url = models.URLField(max_length=2000, blank=True)
    callback = models.CharField(max_length=9, choices=Callback, default=Callback.NONE)
    # When the sweeper may (re)send; pushed forward while a worker holds a send.
    callback_next_at = models.DateTimeField(null=True, blank=True)
    # The first send's time; retries stop SIGNOFF_CALLBACK_RETRY_SECONDS after it.
    callback_first_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["callback_next_at"],
                name="request_callback_due_idx",
                condition=Q(callback="PENDING"),
            )
        ]

    def __str__(self):
        return str(self.id)


class CallbackDelivery(models.Model):
    """One attempt to POST an approval request's outcome to its callback URL."""

    request = models.ForeignKey(
        ApprovalRequest, on_delete=models.CASCADE, related_name="deliveries"
    )
    attempt = models.PositiveIntegerField()
    at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    next_try_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["request", "attempt"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "attempt"], name="delivery_attempt_once"
            )
        ]

    def __str__(self):
        return f"{self.request_id} #{self.attempt} {self.status_code or self.error}"
