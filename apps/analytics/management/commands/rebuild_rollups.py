"""`manage.py rebuild_rollups [--organization SLUG]`: rebuild the dashboards' rollups from the raw tables
(a backfill after an import, or after the rollup rules changed), with a progress bar per organisation."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.accounts.models import Organization
from apps.analytics.services import rollups_rebuild


class Command(BaseCommand):
    help = "Rebuild the dashboards' rollups from the raw messages, mentions and conversations."

    def add_arguments(self, parser):
        parser.add_argument("--organization", help="the organisation's slug (default: every organisation)")
        parser.add_argument("--days-per-step", type=int, default=7, help="days rebuilt per transaction")

    def handle(self, *args, organization=None, days_per_step=7, **options):
        organizations = Organization.objects.order_by("pk")
        if organization:
            organizations = organizations.filter(slug=organization)
            if not organizations.exists():
                raise CommandError(f"no organisation with the slug {organization!r}")
        for org in organizations:
            with tqdm(desc=org.slug, unit="day", file=sys.stderr) as bar:
                days = rollups_rebuild(
                    organization_id=org.pk, days_per_step=days_per_step, progress=lambda n: bar.update(n)
                )
            self.stdout.write(f"{org.slug}: {days} days rebuilt")
