from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.accounts.models import Organization
from apps.classification.encoders import EncoderUnavailable
from apps.conversations.models import Conversation
from apps.replies.selectors import conversations_awaiting_examples
from apps.replies.services import resolution_examples_record


class Command(BaseCommand):
    help = (
        "Record the resolution examples of conversations closed before suggested replies existed "
        "(or all of them again, with --all), for suggestions to draw from. Safe to re-run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organization", help="Slug of the only organisation to backfill.")
        parser.add_argument(
            "--all",
            dest="again",
            action="store_true",
            help="Record again conversations that already have an example.",
        )
        parser.add_argument("--batch-size", type=int, default=64, help="Conversations encoded at once.")

    def handle(self, *args, organization: str | None, again: bool, batch_size: int, **options):
        if again:
            ids = Conversation.objects.filter(status=Conversation.Status.CLOSED).order_by("pk")
            ids = ids.values_list("pk", flat=True)
        else:
            ids = conversations_awaiting_examples()
        if organization:
            found = Organization.objects.filter(slug=organization).first()
            if found is None:
                raise CommandError(f"no organisation with the slug {organization!r}")
            ids = ids.filter(organization=found)
        # Read once: the queue shrinks as examples are recorded, and closed conversations without any
        # reply never leave it.
        ids = list(ids)
        recorded = 0
        with tqdm(total=len(ids), unit="conversation", desc="recording resolution examples") as bar:
            for start in range(0, len(ids), max(1, batch_size)):
                batch = ids[start : start + batch_size]
                try:
                    recorded += resolution_examples_record(conversation_ids=batch)
                except EncoderUnavailable as error:
                    raise CommandError(f"the sentence encoder cannot run here: {error.reason}") from error
                bar.update(len(batch))
        self.stdout.write(
            f"{recorded} resolution examples recorded from {len(ids)} closed conversations "
            f"({len(ids) - recorded} had no reply after a customer's message, or were spam)."
        )
