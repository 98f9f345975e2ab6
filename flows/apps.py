from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "flows"
    verbose_name = "Flows and executions"

    def ready(self):
        from django.core import checks
        from django.db.backends.signals import connection_created

        from flows import retention, secrets, sweeper

        sweeper.connect_to_worker_spawn()
        connection_created.connect(retention.define_sqlite_flag)
        checks.register(secrets.check_key_setting)
        checks.register(secrets.check_key_deployed, deploy=True)
