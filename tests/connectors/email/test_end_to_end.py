"""A real mailbox → poll → pipeline → one conversation; the agent's answer goes out threaded by SMTP."""

import pytest

from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Conversation, Message
from apps.customers.models import Identity
from apps.ingestion.models import RawPayload
from apps.ingestion.polling import channel_poll
from apps.ingestion.services import payload_process
from apps.replies.delivery import message_deliver
from apps.replies.services import reply_create
from tests.connectors.email.conftest import BRAND_ADDRESS
from tests.connectors.email.samples import eml, mail
from tests.factories import membership_create

pytestmark = pytest.mark.django_db

ORIGINAL = mail(
    message_id="<CAE-1@mail.example.com>",
    sender="Ana Perez <ana@example.com>",
    subject="Router keeps rebooting",
    body="Hello,\n\nmy router reboots every ten minutes since Monday.\n\nAna",
    date="Mon, 03 Nov 2025 09:00:00 +0000",
)
# The brand answered from another mail client: the copy in the mailbox is the brand's own message.
BRAND_ANSWER = mail(
    message_id="<support-77@nimbus.test>",
    sender="Nimbus Support <support@nimbus.test>",
    to="Ana Perez <ana@example.com>",
    subject="Re: Router keeps rebooting",
    body=(
        "Hello Ana,\n\nplease update it to firmware 2.1.\n\n"
        "On Mon, 3 Nov 2025 at 09:00, Ana Perez <ana@example.com> wrote:\n> my router reboots"
    ),
    date="Mon, 03 Nov 2025 10:00:00 +0000",
    headers={"In-Reply-To": "<CAE-1@mail.example.com>", "References": "<CAE-1@mail.example.com>"},
)
FOLLOW_UP = mail(
    message_id="<CAE-2@mail.example.com>",
    sender="Ana Perez <ana@example.com>",
    subject="Re: Router keeps rebooting",
    body=(
        "Done, it still reboots.\n\nSent from my iPhone\n\n"
        "On Mon, 3 Nov 2025 at 10:00, Nimbus Support <support@nimbus.test> wrote:\n"
        "> Hello Ana,\n> please update it to firmware 2.1."
    ),
    date="Mon, 03 Nov 2025 11:00:00 +0000",
    headers={
        "In-Reply-To": "<support-77@nimbus.test>",
        "References": "<CAE-1@mail.example.com> <support-77@nimbus.test>",
    },
)


def _poll_and_process(channel) -> int:
    new = channel_poll(channel_id=channel.pk)
    for payload in RawPayload.objects.filter(channel=channel, status=RawPayload.Status.RECEIVED).order_by(
        "pk"
    ):
        payload_process(payload_id=payload.pk)
    return new


def test_a_thread_of_three_mails_is_one_conversation_and_the_answer_continues_it(
    imap_channel, mailbox, smtp_server
):
    imap_channel.settings.update(smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_security="none")
    imap_channel.save()
    for raw in (ORIGINAL, BRAND_ANSWER, FOLLOW_UP):
        mailbox.deliver(raw)

    assert _poll_and_process(imap_channel) == 3

    conversation = Conversation.objects.get(channel=imap_channel)
    assert conversation.subject == "Router keeps rebooting"
    assert conversation.external_thread_id == "<CAE-1@mail.example.com>"
    messages = list(conversation.messages.order_by("sent_at"))
    assert [(m.direction, m.text) for m in messages] == [
        (Message.Direction.INBOUND, "Hello,\n\nmy router reboots every ten minutes since Monday.\n\nAna"),
        (Message.Direction.OUTBOUND, "Hello Ana,\n\nplease update it to firmware 2.1."),
        (Message.Direction.INBOUND, "Done, it still reboots."),
    ]
    assert "firmware 2.1" in messages[2].metadata["full_text"]
    identity = Identity.objects.get(kind=ChannelKind.EMAIL, external_id="ana@example.com")
    assert conversation.customer == identity.customer
    assert (identity.email, identity.display_name, identity.email_verified) == (
        "ana@example.com",
        "Ana Perez",
        False,
    )
    assert not Identity.objects.filter(external_id=BRAND_ADDRESS).exists()

    # The agent answers from the inbox; the reply is threaded under Ana's last mail.
    agent = membership_create(imap_channel.organization).user
    agent.signature = "Maria, Nimbus support"
    agent.save()
    reply = reply_create(conversation=conversation, author=agent, text="We are sending a new router.")
    message_deliver(message_id=reply.pk)
    sent = smtp_server.messages[0].message
    assert sent["To"] == "Ana Perez <ana@example.com>"
    assert sent["In-Reply-To"] == "<CAE-2@mail.example.com>"
    assert sent["References"].split() == [  # a long header is folded: compare the ids
        "<CAE-1@mail.example.com>",
        "<support-77@nimbus.test>",
        "<CAE-2@mail.example.com>",
    ]

    # Ana answers that reply: the next poll puts it in the same conversation.
    mailbox.deliver(
        mail(
            message_id="<CAE-3@mail.example.com>",
            subject="Re: Router keeps rebooting",
            body="Great, thanks!",
            date="Mon, 03 Nov 2025 12:00:00 +0000",
            headers={
                "In-Reply-To": sent["Message-ID"],
                "References": f"{sent['References']} {sent['Message-ID']}",
            },
        )
    )
    assert _poll_and_process(imap_channel) == 1
    assert _poll_and_process(imap_channel) == 0
    conversation.refresh_from_db()
    assert conversation.message_count == 5
    assert conversation.messages.get(external_id="<CAE-3@mail.example.com>").text == "Great, thanks!"


def test_every_sample_mail_goes_through_the_pipeline(imap_channel, mailbox):
    names = [
        "plain.eml",
        "html_only.eml",
        "alternative.eml",
        "iso-8859-1.eml",
        "shift_jis.eml",
        "gb2312.eml",
        "windows-1251.eml",
        "truncated_boundary.eml",
        "invalid_base64.eml",
        "undeclared_8bit.eml",
        "undeclared_latin1.eml",
        "attachment.eml",
    ]
    for name in names:
        mailbox.deliver(eml(name))

    assert _poll_and_process(imap_channel) == len(names)

    statuses = set(RawPayload.objects.filter(channel=imap_channel).values_list("status", flat=True))
    assert statuses == {RawPayload.Status.PROCESSED}
    assert Message.objects.filter(channel=imap_channel).count() == len(names)
    html = Message.objects.get(external_id="<html-only-1@example.net>").html
    assert "<script" not in html and "<b>Spain</b>" in html  # sanitised by the pipeline


def test_a_mail_that_cannot_be_read_is_kept_rejected_with_its_reason(imap_channel, mailbox):
    mailbox.deliver(mail(sender="Undisclosed recipients:;", message_id="<nobody@example.com>"))

    assert _poll_and_process(imap_channel) == 1

    payload = RawPayload.objects.get(channel=imap_channel)
    assert payload.status == RawPayload.Status.REJECTED
    assert payload.rejection_reason.startswith("the email has no sender address")
