from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.classification.build import build
from apps.classification.evaluation import format_report


class Command(BaseCommand):
    help = "Train the shipped sentiment and intent heads from ../shared/datasets and the seed examples."

    def add_arguments(self, parser):
        parser.add_argument(
            "--out", default=settings.CLASSIFIER_DEFAULTS_DIR, help="Folder for the .npz heads."
        )
        parser.add_argument(
            "--features",
            default=settings.CLASSIFIER_FEATURES,
            help="Feature spec: an encoder (use-multilingual, e5-small, hf:<name or local path>) and extras "
            "(default: CXM_CLASSIFIER_FEATURES).",
        )

        parser.add_argument(
            "--only", choices=["sentiment", "intent"], help="Build this head alone; the other stays as it is."
        )
        parser.add_argument(
            "--recalibrate",
            action="store_true",
            help="Do not train the sentiment head again: fit its per-language offsets anew on validation, "
            "with the product's language detection as it is now (after the detector changed, say).",
        )

    def handle(self, *args, out, features, only, recalibrate, **options):
        tasks = (only,) if only else ("sentiment", "intent")
        built = build(
            Path(out),
            features,
            step=lambda text: self.stdout.write(f"· {text}"),
            tasks=tasks,
            recalibrate=recalibrate,
        )
        for task, result in built.items():
            for name, figures in result.validation.items():
                self.stdout.write(format_report(figures, f"\n{task} on {name}"))
