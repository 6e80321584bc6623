from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "apps.routing"
    label = "routing"
    verbose_name = "Routing and SLAs"

    def ready(self):
        from . import receivers

        receivers.connect()
