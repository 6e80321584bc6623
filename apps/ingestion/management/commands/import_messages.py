import io
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.connectors.models import Channel
from apps.ingestion.bulk_import import UnreadableFile, decode_file, import_file


class Command(BaseCommand):
    help = "Import historical messages or review exports (CSV or JSON lines) into a channel."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--channel", type=int, required=True, help="Id of the channel to import into.")
        parser.add_argument("--format", choices=["csv", "jsonl"], help="Default: from the file extension.")
        parser.add_argument("--encoding", default="", help="Default: UTF-8 when valid, else detected.")

    def handle(self, *args, file: Path, channel: int, format: str | None, encoding: str, **options):
        target = Channel.objects.select_related("brand").filter(pk=channel).first()
        if target is None:
            raise CommandError(f"no channel with id {channel}")
        if not file.exists():
            raise CommandError(f"no such file: {file}")
        fmt = format or ("csv" if file.suffix.lower() == ".csv" else "jsonl")
        try:
            text, encoding = decode_file(file.read_bytes(), encoding)
        except UnreadableFile as error:
            raise CommandError(str(error)) from None
        with io.StringIO(text, newline="") as stream:
            total = sum(1 for _ in stream) - (1 if fmt == "csv" else 0)
            stream.seek(0)
            self.stdout.write(f"reading {file.name} as {encoding}")
            with tqdm(total=total, unit="row", desc=f"importing into {target}") as bar:
                report = import_file(channel=target, stream=stream, fmt=fmt, on_progress=bar.update)
        self.stdout.write(
            f"{report.rows} rows: {report.stored} stored for processing, "
            f"{report.duplicates} already imported, {len(report.errors)} rejected."
        )
        for number, reason in report.errors[:50]:
            self.stdout.write(f"  row {number}: {reason}")
        if len(report.errors) > 50:
            self.stdout.write(f"  … and {len(report.errors) - 50} more (see rejected payloads in the admin)")
