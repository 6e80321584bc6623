import time

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.demo.generate import demo_classify, demo_exists, generate_demo

CREDENTIALS_FILE = "demo-credentials.txt"


class Command(BaseCommand):
    help = "Create the demo organisations, users of every role and generated demo data (90 days of messages)."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if the demo already exists.")
        parser.add_argument("--messages", type=int, default=6000, help="Inbound messages to generate.")
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--quiet-credentials", action="store_true", help="Don't print the demo logins.")
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="Processes that classify the demo's messages (the cores).",
        )

    def handle(self, *args, if_empty, messages, days, seed, quiet_credentials, processes, **options):
        self.quiet_credentials = quiet_credentials
        path = settings.VAR_DIR / CREDENTIALS_FILE
        if demo_exists():
            if not if_empty:
                self.stderr.write("The demo organisation already exists; nothing to do.")
            self._print_credentials(path)
            return
        started = time.monotonic()
        result = generate_demo(messages=messages, days=days, seed=seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "".join(f"{user}\t{password}\t{role}\n" for user, password, role in result.credentials)
        )
        path.chmod(0o600)
        generated = time.monotonic()
        self.stdout.write(f"Classifying the demo's {result.messages} inbound messages…")
        classified = demo_classify(processes=processes, progress=self._progress)
        self.stdout.write(
            f"Demo ready in {time.monotonic() - started:.1f}s: {result.messages} inbound messages "
            f"({classified} classified in {time.monotonic() - generated:.1f}s), "
            f"{result.customers} customer profiles."
        )
        self._print_credentials(path)

    def _progress(self, done: int, total: int) -> None:
        # A line every tenth, not every batch: the output of `dev.py run` stays readable.
        tenth = done * 10 // total
        if tenth != getattr(self, "_tenth", 0) or done == total:
            self._tenth = tenth
            self.stdout.write(f"  classified {done:,} of {total:,}")

    def _print_credentials(self, path):
        if self.quiet_credentials or not path.exists():
            return
        self.stdout.write(self.style.SUCCESS("Demo logins (username / password / role):"))
        for line in path.read_text().splitlines():
            user, password, role = line.split("\t")
            self.stdout.write(f"  {user:<14} {password:<14} {role}")
