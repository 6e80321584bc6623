"""Replies over SMTP to a real aiosmtpd server: headers, threading, envelope, signature, errors."""

import pytest

from apps.connectors.base import PayloadRejected, TransientError
from apps.connectors.email.connector import EmailConnector
from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Message
from apps.replies.delivery import message_deliver
from apps.replies.services import reply_create
from tests.connectors.email.conftest import BRAND_ADDRESS, ingest
from tests.connectors.email.samples import mail
from tests.factories import ConversationFactory, CustomerFactory, IdentityFactory, membership_create
from tests.fakes.mailserver import SMTPServer, free_port

pytestmark = pytest.mark.django_db

connector = EmailConnector()

FIRST = mail(
    message_id="<root@example.com>",
    sender="Ana Perez <ana@example.com>",
    subject="My invoice is wrong",
    body="I was charged twice.",
)
SECOND = mail(
    message_id="<second@example.com>",
    sender="Ana Perez <ana@example.com>",
    subject="Re: My invoice is wrong",
    body="Any news?\n\nOn Mon, 3 Nov 2025 at 10:00, Ana <ana@example.com> wrote:\n> I was charged twice.",
    date="Mon, 03 Nov 2025 11:00:00 +0000",
    headers={"In-Reply-To": "<root@example.com>", "References": "<root@example.com>"},
)


@pytest.fixture
def agent(org_a):
    user = membership_create(org_a).user
    user.first_name, user.signature = "Maria", "Maria Lopez\nNimbus Mobile support"
    user.save()
    return user


@pytest.fixture
def thread(smtp_channel):
    """A conversation of two mails from Ana, as the poller would have stored them."""
    ingest(smtp_channel, FIRST)
    return ingest(smtp_channel, SECOND).conversation


def _reply(conversation, agent, text="We refunded the second charge.", **metadata) -> Message:
    message = reply_create(conversation=conversation, author=agent, text=text)
    if metadata:
        message.metadata = metadata
        message.save(update_fields=["metadata"])
    return message


def test_a_reply_is_threaded_and_addressed_to_the_customer(thread, agent, smtp_server, smtp_channel):
    message = _reply(thread, agent)

    message_deliver(message_id=message.pk)

    [sent] = smtp_server.messages
    email = sent.message
    assert sent.mail_from == BRAND_ADDRESS
    assert sent.rcpt_tos == ["ana@example.com"]
    assert email["From"] == f"{smtp_channel.brand.name} <support@nimbus.test>"
    assert email["To"] == "Ana Perez <ana@example.com>"
    assert email["Subject"] == "Re: My invoice is wrong"  # not "Re: Re:"
    assert email["In-Reply-To"] == "<second@example.com>"
    assert email["References"].split() == ["<root@example.com>", "<second@example.com>"]
    assert email["Message-ID"].endswith("@nimbus.test>")
    assert email["Date"] is not None
    assert "Cc" not in email and "Bcc" not in email
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.SENT
    assert message.external_id == email["Message-ID"]


def test_the_body_carries_the_agents_signature_in_text_and_html(thread, agent, smtp_server):
    message_deliver(message_id=_reply(thread, agent, text="Hello Ana,\n\nWe refunded <it>.").pk)

    email = smtp_server.messages[0].message
    assert email.get_content_type() == "multipart/alternative"
    plain = email.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = email.get_body(("html",)).get_content()
    assert plain == "Hello Ana,\n\nWe refunded <it>.\n\n-- \nMaria Lopez\nNimbus Mobile support\n"
    assert "<p>Hello Ana,</p>" in html and "We refunded &lt;it&gt;." in html
    assert '<div class="signature">-- <br>Maria Lopez<br>Nimbus Mobile support</div>' in html


def test_cc_goes_in_a_header_and_bcc_only_in_the_envelope(thread, agent, smtp_server):
    message = _reply(
        thread, agent, cc=["Luis <luis@example.com>", "marta@example.org"], bcc="audit@nimbus.test"
    )
    message_deliver(message_id=message.pk)

    [sent] = smtp_server.messages
    assert sent.rcpt_tos == ["ana@example.com", "luis@example.com", "marta@example.org", "audit@nimbus.test"]
    assert sent.message["Cc"] == "luis@example.com, marta@example.org"
    assert "Bcc" not in sent.message
    assert b"audit@nimbus.test" not in sent.content


def test_a_customer_reply_to_the_agents_mail_lands_in_the_same_conversation(
    thread, agent, smtp_server, smtp_channel
):
    message_deliver(message_id=_reply(thread, agent).pk)
    ours = smtp_server.messages[0].message

    answer = ingest(
        smtp_channel,
        mail(
            message_id="<third@example.com>",
            subject="Re: My invoice is wrong",
            body="Thank you!",
            date="Mon, 03 Nov 2025 12:00:00 +0000",
            headers={
                "In-Reply-To": ours["Message-ID"],
                "References": ours["References"] + " " + ours["Message-ID"],
            },
        ),
    )
    assert answer.conversation == thread
    message_deliver(message_id=_reply(thread, agent, text="You're welcome.").pk)
    second = smtp_server.messages[1].message
    assert second["In-Reply-To"] == "<third@example.com>"
    assert second["References"].split() == [
        "<root@example.com>",
        "<second@example.com>",
        ours["Message-ID"],
        "<third@example.com>",
    ]


def test_the_reply_goes_to_reply_to_when_the_customer_set_one(smtp_channel, agent, smtp_server):
    conversation = ingest(
        smtp_channel, mail(headers={"Reply-To": "Ana at home <ana.home@example.org>"})
    ).conversation
    message_deliver(message_id=_reply(conversation, agent).pk)

    assert smtp_server.messages[0].rcpt_tos == ["ana.home@example.org"]
    assert smtp_server.messages[0].message["To"] == "ana.home@example.org"


def test_without_an_inbound_mail_the_customers_email_identity_is_used(smtp_channel, agent, smtp_server):
    customer = CustomerFactory(organization=smtp_channel.organization)
    IdentityFactory(customer=customer, kind=ChannelKind.X, email="old@example.com")
    IdentityFactory(customer=customer, kind=ChannelKind.EMAIL, email="ana@example.com", display_name="Ana")
    conversation = ConversationFactory(channel=smtp_channel, customer=customer, subject="")

    message_deliver(message_id=_reply(conversation, agent).pk)

    email = smtp_server.messages[0].message
    assert email["To"] == "Ana <ana@example.com>"
    assert email["Subject"] == f"Re: your message to {smtp_channel.brand.name}"
    assert "In-Reply-To" not in email and "References" not in email


def test_a_customer_without_any_address_fails_the_message_with_the_reason(smtp_channel, agent, smtp_server):
    conversation = ConversationFactory(channel=smtp_channel)
    message = _reply(conversation, agent)

    message_deliver(message_id=message.pk)

    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.FAILED
    assert message.delivery_error == "no email address is known for this customer: nowhere to send the reply"
    assert smtp_server.messages == []


def test_an_invalid_cc_fails_the_message(thread, agent, smtp_server):
    message = _reply(thread, agent, cc=["not an address"])
    message_deliver(message_id=message.pk)

    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.FAILED
    assert "cc address" in message.delivery_error


def test_login_over_starttls_with_the_channels_ca(thread, agent, smtp_channel, test_ca):
    with SMTPServer(tls="starttls", ca=test_ca, auth=("relay", "s3cret")) as server:
        smtp_channel.settings.update(
            smtp_port=server.port, smtp_security="starttls", tls_ca_certificate=test_ca.ca_pem
        )
        smtp_channel.credentials = {"smtp_username": "relay", "smtp_password": "s3cret"}
        smtp_channel.save()

        external_id = connector.send(smtp_channel, _reply(thread, agent), reply_to="<second@example.com>")

        assert [m.message["Message-ID"] for m in server.messages] == [external_id]

        smtp_channel.credentials = {"smtp_username": "relay", "smtp_password": "wrong"}
        with pytest.raises(PayloadRejected, match="SMTP login refused for 'relay'.*535"):
            connector.send(smtp_channel, _reply(thread, agent))


def test_implicit_tls(thread, agent, smtp_channel, test_ca):
    with SMTPServer(tls="ssl", ca=test_ca) as server:
        smtp_channel.settings.update(
            smtp_port=server.port, smtp_security="ssl", tls_ca_certificate=test_ca.ca_pem
        )
        connector.send(smtp_channel, _reply(thread, agent))
        assert len(server.messages) == 1

        smtp_channel.settings.pop("tls_ca_certificate")
        with pytest.raises(PayloadRejected, match="TLS certificate that does not verify"):
            connector.send(smtp_channel, _reply(thread, agent))


def test_starttls_required_but_not_offered(thread, agent, smtp_channel):
    smtp_channel.settings["smtp_security"] = "starttls"
    with pytest.raises(PayloadRejected, match="does not offer STARTTLS"):
        connector.send(smtp_channel, _reply(thread, agent))


@pytest.mark.parametrize(
    "answer, error",
    [("550 5.1.1 No such user", PayloadRejected), ("450 4.2.1 Mailbox busy, try later", TransientError)],
)
def test_a_refused_customer_address(thread, agent, smtp_channel, answer, error):
    with SMTPServer(refuse={"ana@example.com": answer}) as server:
        smtp_channel.settings["smtp_port"] = server.port
        with pytest.raises(error, match=answer.split(" ", 1)[1]):
            connector.send(smtp_channel, _reply(thread, agent))
        assert server.messages == []


def test_a_refused_copy_recipient_does_not_fail_the_reply(thread, agent, smtp_channel):
    with SMTPServer(refuse={"luis@example.com": "550 5.1.1 No such user"}) as server:
        smtp_channel.settings["smtp_port"] = server.port
        connector.send(smtp_channel, _reply(thread, agent, cc=["luis@example.com"]))
        assert server.messages[0].rcpt_tos == ["ana@example.com"]


def test_a_server_that_is_down_is_retried(thread, agent, smtp_channel):
    smtp_channel.settings["smtp_port"] = free_port()
    message = _reply(thread, agent)
    smtp_channel.save()

    with pytest.raises(TransientError, match="cannot reach the SMTP server 127.0.0.1"):
        message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.QUEUED  # the task retries it later


@pytest.mark.parametrize(
    "settings, reason",
    [
        ({"smtp_host": ""}, "no SMTP server"),
        ({"from_address": ""}, "no valid 'from_address'"),
        ({"smtp_security": "tls"}, "'smtp_security' must be one of ssl, starttls, none"),
    ],
)
def test_an_incomplete_smtp_configuration_fails_the_message(thread, agent, smtp_channel, settings, reason):
    smtp_channel.settings.update(settings)
    smtp_channel.save()
    message = _reply(thread, agent)

    message_deliver(message_id=message.pk)

    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.FAILED
    assert reason in message.delivery_error
