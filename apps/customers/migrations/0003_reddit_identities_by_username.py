"""Reddit identities were keyed by `author_fullname` (t2_…) where a listing gave it and by `u/<name>` where
it did not (inbox messages): one person, two identities. They are keyed by the lower-cased username now
(apps.connectors.reddit); this re-keys the t2_ ones whose username is known, where no identity has that key
yet (a person already split in two keeps both, for a merge in the profile pages)."""

from django.db import migrations


def rekey(apps, schema_editor):
    Identity = apps.get_model("customers", "Identity")
    for identity in Identity.objects.filter(
        kind="reddit", external_id__startswith="t2_", handle__startswith="u/"
    ):
        key = identity.handle.lower()
        if not Identity.objects.filter(
            organization_id=identity.organization_id, kind="reddit", external_id=key
        ).exists():
            identity.external_id = key
            identity.save(update_fields=["external_id"])


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_case_insensitive_lookups")]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
