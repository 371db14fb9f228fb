from django.apps import AppConfig


class HandoffConfig(AppConfig):
    name = "handoff"
    verbose_name = "Handoff, SLA and webhooks"

    def ready(self) -> None:
        from handoff import hooks

        hooks.register()
