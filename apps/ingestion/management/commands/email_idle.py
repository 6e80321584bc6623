import signal
import threading

from django.core.management.base import BaseCommand

from apps.connectors.email.idle import REFRESH_SECONDS, watch_email_channels
from apps.ingestion.polling import channel_poll


class Command(BaseCommand):
    help = (
        "Push for email channels: an IMAP IDLE watcher per active email channel whose server offers IDLE "
        f"(the list is read again every {REFRESH_SECONDS} s); runs until SIGTERM or SIGINT."
    )

    def handle(self, *args, **options):
        stop = threading.Event()

        def request_stop(signum, frame):
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        self.stdout.write("email_idle: watching email channels with IMAP IDLE (SIGTERM or Ctrl-C stops)")
        watch_email_channels(stop, lambda channel_id: channel_poll(channel_id=channel_id))
        self.stdout.write("email_idle: stopped")
