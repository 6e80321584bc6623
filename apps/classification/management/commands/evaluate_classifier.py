import csv
import sys

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Brand, Organization
from apps.classification.evaluation import format_report
from apps.classification.models import Task
from apps.classification.predict import predict_texts


class Command(BaseCommand):
    help = (
        "Score a classifier on labelled lines (text<TAB>label; a header row, and a `language` column, are "
        "optional): accuracy, macro-F1, per-label precision/recall/F1 and a per-language breakdown."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data", required=True, help="TSV file: text<TAB>label per line")
        parser.add_argument("--task", required=True, choices=Task.values)
        parser.add_argument(
            "--organization", help="Slug of the organisation whose models to use (default: shipped)"
        )
        parser.add_argument(
            "--brand", help="Slug of the brand (needed for relevance: its names and keywords)"
        )

    def handle(self, *args, data, task, organization, brand, **options):
        org = brand_obj = None
        if organization:
            org = Organization.objects.filter(slug=organization).first()
            if org is None:
                raise CommandError(f"no organisation with slug {organization!r}")
        if brand:
            if org is None:
                raise CommandError("--brand needs --organization")
            brand_obj = Brand.objects.filter(organization=org, slug=brand).first()
            if brand_obj is None:
                raise CommandError(f"no brand {brand!r} in {org}")
        if task == Task.RELEVANCE and brand_obj is None:
            raise CommandError("relevance is about a brand: give --organization and --brand")
        texts, labels, languages = _read(data)
        if not texts:
            raise CommandError(f"{data}: no labelled lines")
        predicted, detected = predict_texts(
            texts,
            task=task,
            organization=org,
            brand=brand_obj,
            languages=languages,
            progress=self._bar(len(texts)),
        )
        from apps.classification.evaluation import scores

        self.stdout.write(format_report(scores(labels, predicted, detected), f"{task} on {data}"))

    def _bar(self, total):
        from tqdm import tqdm

        bar = tqdm(total=total, unit="text", file=sys.stderr, disable=None)
        return bar.update


def _read(path):
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    except OSError as error:
        raise CommandError(f"{path}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise CommandError(f"{path}: not UTF-8 text ({error})") from error
    header = [c.strip().lower() for c in rows[0]] if rows else []
    if header[:2] == ["text", "label"]:
        rows = rows[1:]
        language_column = header.index("language") if "language" in header else None
    else:
        language_column = None
    texts, labels, languages = [], [], []
    for number, row in enumerate(rows, start=2 if header[:2] == ["text", "label"] else 1):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            raise CommandError(f"{path}:{number}: expected text<TAB>label, found {len(row)} column")
        texts.append(row[0])
        labels.append(row[1].strip())
        languages.append(row[language_column].strip() if language_column is not None else "")
    return texts, labels, languages
