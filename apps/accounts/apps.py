from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_org_admin_permissions(sender, **kwargs):
    # Model permissions exist only after migrate; new apps' models reach the org admins' group here.
    from .services import org_admin_group

    org_admin_group()


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Organisations and users"

    def ready(self):
        post_migrate.connect(_sync_org_admin_permissions, dispatch_uid="cxm-org-admin-permissions")
