from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Teams and API keys"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_save

        from accounts import schema  # noqa: F401  (registers the OpenAPI extension)
        from accounts.services import tokens_rotate_on_credentials

        pre_save.connect(tokens_rotate_on_credentials, sender=get_user_model(),
                         dispatch_uid="tokens_rotate_on_credentials")  # fmt: skip
