from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "flows"
    verbose_name = "Flows and executions"

    def ready(self):
        from django.core import checks

        from flows import secrets, sweeper

        sweeper.connect_to_worker_spawn()
        checks.register(secrets.check_key_setting)
        checks.register(secrets.check_key_deployed, deploy=True)
