from django.apps import AppConfig


class LeadflowConfig(AppConfig):
    name = "leadflow"
    verbose_name = "leadflow"
