from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Platform"

    def ready(self):
        from . import checks, outbound  # noqa: F401 - importing checks registers the database prerequisites check

        outbound.install()  # the guard on connections to destinations that tenants configure
