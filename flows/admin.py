"""Admin: everything inspectable, nothing that could break an execution or its trail.

Executions, task runs, tokens and events are read-only pages (no add, change or
delete: the audit trail is append-only and `manage.py purge` is the one way rows
go); the cancel action goes through the engine. A flow is added or changed as
YAML through flows.loader, each change a new revision. JSON that may hold secrets
(inputs, outputs, responses, event data) is shown through masked(): a secret is
******, as on every page.
"""

import json

from django import forms
from django.contrib import admin, messages

from flows import engine, loader, secrets
from flows.models import (
    ApprovalRequest,
    CallbackDelivery,
    Execution,
    ExecutionEvent,
    Flow,
    FlowEvent,
    FlowRevision,
    SuspensionToken,
    TaskRun,
    Tenant,
)


def masked(field: str):
    """A read-only admin column showing the JSON field `field` with secrets masked."""

    @admin.display(description=field.replace("_", " "))
    def show(model_admin, obj):
        value = secrets.mask(getattr(obj, field))
        return json.dumps(value, indent=1, ensure_ascii=False, default=str)

    return show


class ReadOnly:
    """Something to look at: no add, no change (so no Save buttons), no delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnly, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    pass


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name"]
    search_fields = ["slug", "name"]
    filter_horizontal = ["members"]


class FlowRevisionInline(ReadOnlyInline):
    model = FlowRevision
    fields = ["revision", "checksum", "created_at"]
    readonly_fields = fields


class FlowSourceForm(forms.ModelForm):
    """A flow as YAML, validated by flows.loader; saved as a new revision."""

    source = forms.CharField(
        label="YAML",
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "spellcheck": "false"}),
        help_text="The flow definition. Saving a changed definition makes a new "
        "revision; executions keep the revision they started with.",
    )

    class Meta:
        model = Flow
        fields = ["tenant"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.definition = None
        if self.instance.pk:
            latest = self.instance.revisions.order_by("-revision").first()
            self.fields["source"].initial = latest.source if latest else ""

    def clean(self):
        cleaned = super().clean()
        source = cleaned.get("source")
        if source is None:
            return cleaned
        try:
            self.definition = loader.parse_flow(source, "YAML")
        except loader.FlowDefinitionError as exc:
            self.add_error("source", [_by_line(p) for p in exc.problems])
            return cleaned
        if self.instance.pk and (
            self.definition["namespace"],
            self.definition["id"],
        ) != (self.instance.namespace, self.instance.flow_id):
            self.add_error(
                "source",
                f"This page is flow {self.instance}; the YAML defines "
                f"{self.definition['namespace']}.{self.definition['id']} (add it as "
                "a new flow instead).",
            )
        return cleaned


def _by_line(problem) -> str:
    where = f"line {problem.line}: " if problem.line else ""
    task = f"task '{problem.task_id}': " if problem.task_id is not None else ""
    return f"{where}{task}{problem.message}"


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    form = FlowSourceForm
    list_display = [
        "__str__",
        "tenant",
        "latest_revision",
        "is_paused",
        "cancelled_at",
        "updated_at",
    ]
    list_filter = ["tenant", "namespace", "is_paused"]
    list_select_related = ["tenant"]
    search_fields = ["namespace", "flow_id", "description"]
    inlines = [FlowRevisionInline]
    actions = ["pause_flows", "resume_flows", "cancel_flows"]

    def has_hold_permission(self, request):
        return request.user.is_staff or request.user.has_perm("flows.change_flow")

    @admin.action(description="Pause selected flows", permissions=["hold"])
    def pause_flows(self, request, queryset):
        self._hold(request, queryset, engine.pause_flow, "Paused")

    @admin.action(description="Resume selected flows", permissions=["hold"])
    def resume_flows(self, request, queryset):
        self._hold(request, queryset, engine.resume_flow, "Resumed")

    @admin.action(
        description="Cancel every execution of selected flows", permissions=["hold"]
    )
    def cancel_flows(self, request, queryset):
        self._hold(request, queryset, engine.cancel_flow, "Cancelled the executions of")

    def _hold(self, request, queryset, operation, done: str) -> None:
        for flow in queryset:
            try:
                count = operation(flow.pk, actor=request.user, channel="admin")
            except engine.HoldConflict as exc:
                self.message_user(request, f"{flow}: {exc}", messages.WARNING)
            else:
                note = f"{done} {flow} ({count} execution(s))."
                self.message_user(request, note, messages.SUCCESS)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["tenant", "source"]
        return [*self.get_readonly_fields(request, obj), "source"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "tenant",
            "namespace",
            "flow_id",
            "latest_revision",
            "is_paused",
            "cancelled_at",
        ]

    def has_delete_permission(self, request, obj=None):
        return False  # its revisions and executions are history

    def save_form(self, request, form, change):
        tenant = form.instance.tenant if change else form.cleaned_data["tenant"]
        source = form.cleaned_data["source"]
        result = loader.save_flow(tenant, source, form.definition)
        if result.created_revision:
            note = f"{result.flow} saved as revision {result.revision.revision}."
        else:
            note = f"{result.flow} unchanged: revision {result.revision.revision}."
        self.message_user(request, note, messages.INFO)
        form.note = note
        return result.flow

    def construct_change_message(self, request, form, formsets, add=False):
        return form.note  # the history says which revision it made

    def save_model(self, request, obj, form, change):
        pass  # flows.loader saved it, in save_form

    def save_related(self, request, form, formsets, change):
        pass  # revisions are never edited in place


@admin.register(FlowRevision)
class FlowRevisionAdmin(ReadOnlyAdmin):
    list_display = ["flow", "revision", "created_at"]
    list_select_related = ["flow"]
    search_fields = ["flow__namespace", "flow__flow_id"]
    readonly_fields = [
        "flow",
        "revision",
        "checksum",
        "source",
        "definition",
        "created_at",
    ]


class TaskRunInline(ReadOnlyInline):
    model = TaskRun
    fields = [
        "path",
        "task_type",
        "state",
        "attempt",
        "started_at",
        "ended_at",
        "shown_outputs",
        "error",
    ]
    readonly_fields = fields
    ordering = ["started_at"]
    shown_outputs = masked("outputs")


class TokenInline(ReadOnlyInline):
    model = SuspensionToken
    fk_name = "execution"
    fields = [
        "id",
        "state",
        "screen",
        "expires_at",
        "resolved_by_name",
        "resolved_at",
        "channel",
        "shown_response",
    ]
    readonly_fields = fields
    shown_response = masked("response")


class EventInline(ReadOnlyInline):
    model = ExecutionEvent
    fields = [
        "at",
        "subject",
        "subject_id",
        "from_state",
        "to_state",
        "actor_name",
        "channel",
        "shown_data",
    ]
    readonly_fields = fields
    show_change_link = False
    shown_data = masked("data")


@admin.register(Execution)
class ExecutionAdmin(ReadOnlyAdmin):
    list_display = ["id", "flow", "state", "hold", "tenant", "created_at", "ended_at"]
    list_filter = ["state", "hold", "tenant", "flow__namespace", "flow"]
    list_select_related = ["flow", "tenant"]
    search_fields = ["id"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "tenant",
        "flow",
        "revision",
        "state",
        "hold",
        "shown_inputs",
        "labels",
        "created_by",
        "created_at",
        "started_at",
        "ended_at",
        "lease_until",
        "last_event_seq",
        "last_event_hash",
    ]
    exclude = ["inputs"]
    inlines = [TaskRunInline, TokenInline, EventInline]
    shown_inputs = masked("inputs")
    actions = ["cancel_executions"]

    def has_cancel_permission(self, request):
        return request.user.has_perm("flows.change_execution")

    @admin.action(description="Cancel selected executions", permissions=["cancel"])
    def cancel_executions(self, request, queryset):
        cancelled = sum(
            engine.cancel(pk, actor=request.user, channel="admin")
            for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(
            request, f"Cancelled {cancelled} execution(s).", messages.SUCCESS
        )


@admin.register(SuspensionToken)
class SuspensionTokenAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "execution",
        "state",
        "screen",
        "expires_at",
        "resolved_by_name",
        "channel",
    ]
    list_filter = ["state", "screen", "tenant", "channel"]
    list_select_related = ["execution"]
    search_fields = ["id", "execution__id"]
    exclude = ["secret_hash", "response"]
    readonly_fields = [
        "id",
        "tenant",
        "execution",
        "task_run",
        "state",
        "screen",
        "schema",
        "message",
        "assignees",
        "approvals_required",
        "allow_self_approval",
        "behavior",
        "created_at",
        "expires_at",
        "resolved_at",
        "resolved_by",
        "resolved_by_name",
        "channel",
        "shown_response",
    ]
    shown_response = masked("response")


@admin.register(ExecutionEvent)
class ExecutionEventAdmin(ReadOnlyAdmin):
    list_display = [
        "at",
        "execution",
        "subject",
        "from_state",
        "to_state",
        "actor_name",
        "channel",
    ]
    list_filter = ["subject", "to_state", "channel"]
    search_fields = ["execution__id", "subject_id", "actor_name"]
    list_select_related = ["execution"]
    exclude = ["data"]
    readonly_fields = [
        *(f.name for f in ExecutionEvent._meta.fields if f.name != "data"),
        "shown_data",
    ]
    shown_data = masked("data")


@admin.register(FlowEvent)
class FlowEventAdmin(ReadOnlyAdmin):
    """Whole-flow pauses, resumes and cancels, with who made them."""

    list_display = ["at", "flow", "action", "actor_name", "channel", "executions"]
    list_filter = ["action", "flow__tenant"]
    list_select_related = ["flow"]
    search_fields = ["flow__namespace", "flow__flow_id", "actor_name"]


class DeliveryInline(ReadOnlyInline):
    model = CallbackDelivery
    fields = ["attempt", "at", "status_code", "error", "next_try_at"]
    readonly_fields = fields
    show_change_link = False


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    """Approval requests from other systems and their callbacks' deliveries."""

    list_display = ["id", "tenant", "token", "callback", "callback_next_at"]
    list_filter = ["callback", "tenant"]
    readonly_fields = [
        "tenant",
        "execution",
        "token",
        "callback_url",
        "callback",
        "callback_next_at",
        "callback_first_at",
        "created_at",
    ]
    inlines = [DeliveryInline]
