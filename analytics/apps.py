from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Read-only reports and the backtest. Depends on every other app; nothing depends on it."""

    name = "analytics"
    verbose_name = "Analytics"
