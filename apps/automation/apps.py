from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "apps.automation"
    label = "automation"
    verbose_name = "Automation"

    def ready(self):
        from . import receivers

        receivers.connect()
