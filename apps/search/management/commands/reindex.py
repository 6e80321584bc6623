from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.accounts.models import Organization
from apps.search.backends import get_backend
from apps.search.services import search_reindex


class Command(BaseCommand):
    help = (
        "Rebuild the search index: with Elasticsearch, every message into a fresh index (then the alias "
        "moves to it); with PostgreSQL, REINDEX and ANALYZE of the full-text indexes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organization", help="only this organisation's messages (id or slug)")

    def handle(self, *args, organization=None, **options):
        organization_id = None
        if organization:
            found = Organization.objects.filter(
                **({"pk": int(organization)} if organization.isdigit() else {"slug": organization})
            ).first()
            if found is None:
                raise CommandError(f"no organisation {organization!r}")
            organization_id = found.pk
        backend = get_backend()
        if backend.name == "postgresql":
            self.stdout.write(
                "PostgreSQL full-text search indexes messages as they are written; rebuilding its indexes "
                "(REINDEX CONCURRENTLY) and refreshing statistics (ANALYZE)"
                + (" for the whole table (they are not per organisation)" if organization_id else "")
            )
        bar = tqdm(total=0, unit="step" if backend.name == "postgresql" else "msg", file=self.stderr)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        count = search_reindex(organization_id=organization_id, progress=progress)
        bar.close()
        self.stdout.write(self.style.SUCCESS(f"search index rebuilt ({backend.name}): {count} messages"))
