import sys

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Brand, Organization
from apps.classification import services
from apps.classification.evaluation import format_report
from apps.classification.models import ClassifierVersion, Task


class Command(BaseCommand):
    help = "Train a new version of an organisation's (or a brand's) model from its corrections, now."

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="Organisation slug")
        parser.add_argument("--brand", help="Brand slug (default: the organisation-wide model)")
        parser.add_argument("--task", required=True, choices=Task.values)

    def handle(self, *args, organization, brand, task, **options):
        from tqdm import tqdm

        org = Organization.objects.filter(slug=organization).first()
        if org is None:
            raise CommandError(f"no organisation with slug {organization!r}")
        brand_obj = None
        if brand:
            brand_obj = Brand.objects.filter(organization=org, slug=brand).first()
            if brand_obj is None:
                raise CommandError(f"no brand {brand!r} in {org}")
        version = services.classifier_version_start(organization=org, brand=brand_obj, task=task)
        with tqdm(total=100, unit="%", file=sys.stderr, desc=str(version)) as bar:

            def progress(percent):
                bar.update(percent - bar.n)

            version = services.classifier_train(version=version, progress=progress)
        if version.status == ClassifierVersion.Status.FAILED:
            raise CommandError(f"{version}: {version.error}")
        self.stdout.write(
            self.style.SUCCESS(f"{version} trained on {version.examples_count} examples, now in use")
        )
        for name in ("before", "after"):
            if name in version.metrics:
                self.stdout.write(format_report(version.metrics[name], f"\n{name} (held-out corrections)"))
