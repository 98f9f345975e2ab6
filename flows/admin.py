"""Admin: everything inspectable, engine-owned fields read-only, engine actions.

JSON that may hold secrets (inputs, outputs, responses, event data) is shown
through masked(): a secret is ******, as on every page.
"""

import json

from django.contrib import admin, messages

from flows import engine, secrets
from flows.models import (
    Execution,
    ExecutionEvent,
    Flow,
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


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name"]
    search_fields = ["slug", "name"]
    filter_horizontal = ["members"]


class FlowRevisionInline(ReadOnlyInline):
    model = FlowRevision
    fields = ["revision", "checksum", "created_at"]
    readonly_fields = fields


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    list_display = ["__str__", "tenant", "latest_revision", "is_paused", "updated_at"]
    list_filter = ["tenant", "namespace", "is_paused"]
    list_select_related = ["tenant"]
    search_fields = ["namespace", "flow_id", "description"]
    readonly_fields = ["tenant", "namespace", "flow_id", "latest_revision", "is_paused"]
    inlines = [FlowRevisionInline]


@admin.register(FlowRevision)
class FlowRevisionAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False


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
class ExecutionAdmin(admin.ModelAdmin):
    list_display = ["id", "flow", "state", "tenant", "created_at", "ended_at"]
    list_filter = ["state", "tenant", "flow__namespace", "flow"]
    list_select_related = ["flow", "tenant"]
    search_fields = ["id"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "tenant",
        "flow",
        "revision",
        "state",
        "shown_inputs",
        "labels",
        "created_by",
        "created_at",
        "started_at",
        "ended_at",
        "lease_until",
    ]
    exclude = ["inputs"]
    inlines = [TaskRunInline, TokenInline, EventInline]
    shown_inputs = masked("inputs")
    actions = ["cancel_executions"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Cancel selected executions")
    def cancel_executions(self, request, queryset):
        cancelled = sum(
            engine.cancel(pk, actor=request.user, channel="admin")
            for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(
            request, f"Cancelled {cancelled} execution(s).", messages.SUCCESS
        )


@admin.register(SuspensionToken)
class SuspensionTokenAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False


@admin.register(ExecutionEvent)
class ExecutionEventAdmin(admin.ModelAdmin):
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
    exclude = ["data"]
    readonly_fields = [
        *(f.name for f in ExecutionEvent._meta.fields if f.name != "data"),
        "shown_data",
    ]
    shown_data = masked("data")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
