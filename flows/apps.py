from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "flows"
    verbose_name = "Flows and executions"

    def ready(self):
        from flows import sweeper

        sweeper.connect_to_worker_spawn()
