from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "web"
    verbose_name = "Web UI"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from web.middleware import remember_language

        user_logged_in.connect(remember_language, dispatch_uid="web.remember_language")
