from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals"

    def ready(self):
        # The engine calls these without importing approvals (flows/hooks.py).
        from approvals import notifications, reminders
        from flows import hooks

        hooks.on_waiting(notifications.notify_waiting)
        hooks.on_waiting(reminders.schedule)
        hooks.on_sweep("notices", notifications.enqueue_due, notifications.next_due)
        hooks.on_sweep("follow_ups", reminders.sweep, reminders.next_due)
