"""Notifications in the admin: read-only, for looking at who was told what, when."""

from django.contrib import admin

from approvals.models import Notice, NoticeDelivery
from flows.admin import ReadOnlyAdmin, ReadOnlyInline


class NoticeDeliveryInline(ReadOnlyInline):
    model = NoticeDelivery
    fields = ["attempt", "at", "ok", "error", "next_try_at"]
    readonly_fields = fields
    show_change_link = False


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    """The notifications outbox; the chat webhook (`target`) is never shown."""

    list_display = ["id", "token", "user", "channel", "reason", "state", "attempts"]
    list_filter = ["state", "channel", "reason"]
    list_select_related = ["user", "token"]
    search_fields = ["user__username", "user__email", "token__id"]
    fields = [
        "token",
        "user",
        "channel",
        "reason",
        "state",
        "created_at",
        "first_at",
        "next_at",
        "attempts",
    ]
    readonly_fields = fields
    inlines = [NoticeDeliveryInline]
