import csv
import sys

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Brand, Organization
from apps.classification.evaluation import format_report
from apps.classification.models import Task
from apps.classification.predict import predict_texts
from apps.classification.targets import segment_for


class Command(BaseCommand):
    help = (
        "Score a classifier on labelled lines (text<TAB>label; a header row, and a `language` column, are "
        "optional): accuracy, macro-F1, per-label precision/recall/F1 and a per-language breakdown. With a "
        "`target` column (header text<TAB>target<TAB>label), sentiment is scored towards each line's target "
        "through the per-brand clause logic: the clauses that name the target, as for a post naming "
        "several brands."
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
        texts, labels, languages, targets = _read(data)
        if not texts:
            raise CommandError(f"{data}: no labelled lines")
        title = f"{task} on {data}"
        if targets is not None:
            if task != Task.SENTIMENT:
                raise CommandError("a `target` column is scored for sentiment only: give --task sentiment")
            # What classification does for each brand a message names (services._classify): the clauses
            # that name it, read alone.
            texts = [segment_for(text, [target]) for text, target in zip(texts, targets, strict=True)]
            title = f"target sentiment on {data}"
        predicted, detected = predict_texts(
            texts,
            task=task,
            organization=org,
            brand=brand_obj,
            languages=languages,
            progress=self._bar(len(texts)),
        )
        from apps.classification.evaluation import scores

        self.stdout.write(format_report(scores(labels, predicted, detected), title))

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
    # Columns by name where a header names them (text, label, and optionally target and language); else
    # text<TAB>label.
    named = header[:1] == ["text"] and "label" in header
    columns = {"text": 0, "label": 1, "language": None, "target": None}
    if named:
        rows = rows[1:]
        columns.update(
            {name: header.index(name) for name in ("label", "language", "target") if name in header}
        )
    needed = max(c for c in columns.values() if c is not None) + 1
    texts, labels, languages, targets = [], [], [], []
    for number, row in enumerate(rows, start=2 if named else 1):
        if not row or not "".join(row).strip():
            continue
        if len(row) < needed:
            expected = "<TAB>".join(header) if named else "text<TAB>label"
            raise CommandError(f"{path}:{number}: expected {expected}, found {len(row)} column")
        texts.append(row[columns["text"]])
        labels.append(row[columns["label"]].strip())
        language = columns["language"]
        languages.append(row[language].strip() if language is not None else "")
        if columns["target"] is not None:
            target = row[columns["target"]].strip()
            if not target:
                raise CommandError(f"{path}:{number}: the target is empty")
            targets.append(target)
    return texts, labels, languages, (targets if columns["target"] is not None else None)
