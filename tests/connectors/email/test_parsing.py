"""Raw RFC 822 → InboundMessage: every charset, HTML-only mail, broken MIME, threading, attachments."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.connectors.base import PayloadRejected
from apps.connectors.email.parsing import decode_bytes, parse_email
from tests.connectors.email.samples import eml, mail


def test_a_plain_mail_gives_text_subject_author_cc_and_date():
    message = parse_email(eml("plain.eml"))

    assert message.external_id == "<CAF1a2b3c4d5@mail.example.com>"
    assert message.thread_key == "<CAF1a2b3c4d5@mail.example.com>"
    assert message.in_reply_to == ""
    assert message.subject == "My invoice is wrong"
    assert message.text == (
        "Hello,\n\nI was charged twice for October. Can you refund one of the charges?\n\nThanks,\nAna"
    )
    assert message.html == ""
    assert message.sent_at == datetime(2025, 11, 3, 9, 15, tzinfo=UTC)
    assert message.outbound is False
    author = message.author
    assert (author.external_id, author.email, author.display_name) == (
        "ana.perez@example.com",
        "Ana.Perez@Example.com",
        "Ana Pérez",
    )
    # Anyone can write any From header: the address is not proof of identity unless the channel says so.
    assert author.email_verified is False
    assert message.metadata["cc"] == ["luis@example.com", "marta@example.org"]
    assert message.metadata["to"] == ["support@nimbus.test"]
    assert "full_text" not in message.metadata  # nothing was stripped
    assert "auto_reply" not in message.metadata and "attachments" not in message.metadata


def test_trust_sender_makes_the_address_verified():
    assert parse_email(eml("plain.eml"), trust_sender=True).author.email_verified is True


def test_an_html_only_mail_becomes_text_with_paragraphs_and_keeps_its_html():
    message = parse_email(eml("html_only.eml"))

    assert message.text == (
        "Hi team,\n\n"
        "My roaming stopped working in Spain yesterday.\nI restarted the phone twice.\n\n"
        "- Model: X200\n- Plan: Travel & More\n\n"
        "Regards,\nBob"
    )
    assert "<b>Spain</b>" in message.html  # the pipeline sanitises it (nh3) before storing
    assert "alert" not in message.text and "color: red" not in message.text


def test_multipart_alternative_takes_the_text_part_for_text_and_the_html_part_for_html():
    message = parse_email(eml("alternative.eml"))

    assert message.subject == "Reçu manquant"
    assert message.text == "Bonjour, je n'ai pas reçu ma facture."
    assert message.html.startswith('<div dir="ltr">Bonjour, je n\'ai pas reçu ma <i>facture</i>.</div>')


@pytest.mark.parametrize(
    "name, subject, text, author",
    [
        (
            "iso-8859-1.eml",
            "Problème de réseau à Lyon",
            "Bonjour, le réseau est coupé depuis ce matin à Lyon. Merci de vérifier.",
            "François Léger",
        ),
        ("shift_jis.eml", "請求について", "請求書が二重に届きました。確認をお願いします。", "山田"),
        ("gb2312.eml", "无法上网", "你好，我的手机无法上网，请帮忙。", "Li Wei"),
        ("windows-1251.eml", "Интернет", "Здравствуйте! Не работает мобильный интернет.", "Иван Петров"),
        # 8-bit bytes with no charset declared anywhere: UTF-8 when they are, else windows-1252.
        ("undeclared_8bit.eml", "Factura errónea", "Hola, la factura está mal. ¿Podéis revisarla?", "José"),
        ("undeclared_latin1.eml", "Factura errónea", "Hola, la factura está mal. ¿Podéis revisarla?", "José"),
    ],
)
def test_every_charset_is_decoded(name, subject, text, author):
    message = parse_email(eml(name))

    assert (message.subject, message.text, message.author.display_name) == (subject, text, author)


def test_decoding_falls_back_for_wrong_and_unknown_charsets():
    assert decode_bytes("café".encode(), "us-ascii") == "café"  # declared ASCII, really UTF-8
    assert decode_bytes(b"caf\xe9", "utf-8") == "caf\ufffd"  # declared UTF-8, broken: replaced
    assert decode_bytes(b"caf\xe9", "x-no-such-charset") == "café"  # unknown label: windows-1252
    assert decode_bytes(b"\x93quoted\x94", "iso-8859-1") == "\u201cquoted\u201d"  # latin-1 as sent
    assert decode_bytes(b"aGk=", "base64") == "aGk="  # a codec that is not a charset is ignored


def test_a_multipart_whose_closing_boundary_never_comes_keeps_what_arrived():
    message = parse_email(eml("truncated_boundary.eml"))

    assert message.text == "The first part arrived whole."
    assert message.metadata["attachments"] == [
        {"filename": "contract.pdf", "content_type": "application/pdf", "size": 36}
    ]
    assert message.metadata["mime_defects"] == ["CloseBoundaryNotFoundDefect"]


def test_invalid_base64_gives_best_effort_text():
    message = parse_email(eml("invalid_base64.eml"))

    assert message.text.startswith("Hello, my SIM card is blocked.")
    assert "InvalidBase64CharactersDefect" in message.metadata["mime_defects"]


def test_broken_headers_and_nul_bytes_never_reach_the_database_raw():
    raw = mail(
        subject="=?x-unknown?q?caf=E9?= =?utf-8?B?!!!?=",
        sender='"=?utf-8?q?Br=C3=B8ken?= \x00" <nul@example.com>',
        body="tab\x00bed",
    )
    message = parse_email(raw)

    assert "\x00" not in message.text + message.author.display_name + message.subject
    assert message.text == "tabbed"
    assert message.author.email == "nul@example.com"
    message.subject.encode("utf-8")  # storable: no lone surrogates


def test_a_message_part_nested_in_a_broken_multipart_is_parsed_or_listed():
    raw = mail(
        content_type='multipart/mixed; boundary="zz"',
        body=(
            "--zz\nContent-Type: text/plain\n\nFirst\n"
            "--zz\nContent-Type: multipart/alternative\n\nno boundary"
        ),
    )
    message = parse_email(raw)

    assert message.text.startswith("First")


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"", "empty email"),
        (b"   \r\n", "empty email"),
        (b"\x00\x01\x02 binary garbage, no headers at all", "not an email: no headers found"),
        (mail(sender=None), "no From header"),
        (mail(sender="Undisclosed recipients:;"), "holds none"),
        (mail(sender="just a name"), "holds none"),
    ],
)
def test_a_mail_without_a_sender_is_rejected_with_the_reason(raw, reason):
    with pytest.raises(PayloadRejected) as caught:
        parse_email(raw)
    assert reason in caught.value.reason


def test_attachments_are_listed_without_their_content():
    message = parse_email(eml("attachment.eml"))

    assert message.text == "See the screenshot and the bill attached."
    assert message.html.startswith("<p>See the screenshot")
    assert message.metadata["attachments"] == [
        {"filename": "screenshot.png", "content_type": "image/png", "size": 100},
        {"filename": "facture octobre €.pdf", "content_type": "application/pdf", "size": 2000},
        # A forwarded message is an attachment, not part of this message's text.
        {"filename": "message.eml", "content_type": "message/rfc822", "size": 106},
    ]
    assert "Your bill is ready" not in message.text


@pytest.mark.parametrize(
    "headers, thread_key, in_reply_to",
    [
        (
            {"In-Reply-To": "<m2@x>", "References": "<root@x>\r\n <m1@x>\r\n <m2@x>"},
            "<root@x>",
            "<m2@x>",
        ),
        ({"In-Reply-To": "<m2@x> (Ana's message of Monday)"}, "<m2@x>", "<m2@x>"),
        ({"References": "root@x"}, "<root@x>", ""),  # brackets forgotten by a broken mailer
        ({}, "<own@x>", ""),
    ],
)
def test_the_thread_key_is_the_root_of_references_else_in_reply_to_else_the_own_id(
    headers, thread_key, in_reply_to
):
    message = parse_email(mail(message_id="<own@x>", headers=headers))

    assert (message.thread_key, message.in_reply_to) == (thread_key, in_reply_to)


def test_a_mail_without_message_id_gets_a_stable_id_from_its_bytes():
    raw = mail(message_id=None)

    assert parse_email(raw).external_id == parse_email(raw).external_id
    assert parse_email(raw).external_id.endswith("@no-message-id.invalid>")
    assert parse_email(raw).external_id != parse_email(mail(message_id=None, body="other")).external_id


@pytest.mark.parametrize(
    "headers, sender, content_type, reason",
    [
        ({"Auto-Submitted": "auto-replied"}, None, None, "Auto-Submitted: auto-replied"),
        ({"Auto-Submitted": "auto-generated; owner-email=x@y"}, None, None, "Auto-Submitted"),
        ({"X-Autoreply": "yes"}, None, None, "X-Autoreply"),
        ({"Precedence": "auto_reply"}, None, None, "Precedence: auto_reply"),
        ({}, "Mail Delivery System <MAILER-DAEMON@mx.example.com>", None, "sent by mailer-daemon"),
        ({}, None, 'multipart/report; report-type=delivery-status; boundary="r"', "delivery report"),
        ({"Return-Path": "<>"}, None, None, "empty Return-Path"),
    ],
)
def test_auto_replies_and_bounces_are_flagged_and_still_stored(headers, sender, content_type, reason):
    kwargs = {"headers": headers}
    if sender:
        kwargs["sender"] = sender
    if content_type:
        kwargs["content_type"] = content_type
        kwargs["body"] = "--r\nContent-Type: text/plain\n\nDelivery failed.\n--r--"
    message = parse_email(mail(**kwargs))

    assert message.metadata["auto_reply"] is True
    assert reason in message.metadata["auto_reply_reason"]


def test_auto_submitted_no_is_a_person():
    assert "auto_reply" not in parse_email(mail(headers={"Auto-Submitted": "no"})).metadata


@pytest.mark.parametrize("date", [None, "yesterday-ish", "Mon, 99 Foo 2025 99:99:99 +0000"])
def test_a_missing_or_broken_date_falls_back_to_now(date):
    before = datetime.now(UTC)
    sent_at = parse_email(mail(date=date)).sent_at
    assert before - timedelta(seconds=1) <= sent_at <= datetime.now(UTC)


def test_a_date_far_in_the_future_is_not_believed():
    sent_at = parse_email(mail(date="Thu, 01 Jan 2099 00:00:00 +0000")).sent_at
    assert sent_at <= datetime.now(UTC)


def test_a_date_without_a_zone_is_utc():
    assert parse_email(mail(date="Mon, 03 Nov 2025 10:00:00 -0000")).sent_at == datetime(
        2025, 11, 3, 10, tzinfo=UTC
    )


def test_reply_to_is_kept_for_the_answer():
    message = parse_email(mail(headers={"Reply-To": "Ana at home <ana.home@example.org>"}))
    assert message.metadata["reply_to"] == "ana.home@example.org"


def test_the_brands_own_mail_is_outbound_and_about_its_recipient():
    raw = mail(sender="Nimbus <Support@Nimbus.test>", to="Ana Perez <ana@example.com>")
    message = parse_email(raw, trust_sender=True, own_addresses=frozenset({"support@nimbus.test"}))

    assert message.outbound is True
    assert (message.author.external_id, message.author.display_name) == ("ana@example.com", "Ana Perez")
    assert message.author.email_verified is False


def test_format_flowed_lines_are_joined():
    raw = mail(
        content_type="text/plain; charset=utf-8; format=flowed",
        body="This is a long line that the \nclient wrapped for sending.\n\nNew paragraph.",
    )
    assert parse_email(raw).text == (
        "This is a long line that the client wrapped for sending.\n\nNew paragraph."
    )


def test_stripping_keeps_the_full_original_in_metadata():
    body = (
        "Yes, that is my account.\n\n-- \nAna Perez\n+34 600 000 000\n\n"
        "On Mon, 3 Nov 2025 at 10:00, Nimbus <support@nimbus.test> wrote:\n> Which account is it?"
    )
    message = parse_email(mail(body=body))

    assert message.text == "Yes, that is my account."
    assert message.metadata["full_text"] == body


def test_a_gmail_html_reply_loses_its_quote_div():
    html = (
        '<div dir="ltr">Thanks, it works now!<br></div><br>'
        '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, Nov 3, 2025 at 10:20 AM '
        "Nimbus Support &lt;support@nimbus.test&gt; wrote:<br></div>"
        '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">Please restart the phone.'
        "</blockquote></div>"
    )
    message = parse_email(mail(content_type="text/html; charset=utf-8", body=html))

    assert message.text == "Thanks, it works now!"
    assert "Please restart the phone." in message.metadata["full_text"]
    assert "gmail_quote" in message.html


def test_a_gmail_html_forward_keeps_the_forwarded_message():
    html = (
        '<div dir="ltr">See below<br><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
        "---------- Forwarded message ---------<br>From: <strong>Nimbus Billing</strong> "
        "&lt;billing@nimbus.test&gt;<br>Date: Mon, Nov 3, 2025 at 8:00 AM<br>Subject: Your bill<br></div>"
        "<br>Amount due: 120 EUR</div></div>"
    )
    message = parse_email(mail(content_type="text/html; charset=utf-8", body=html))

    assert message.text.startswith("See below\n\n---------- Forwarded message ---------")
    assert message.text.endswith("Amount due: 120 EUR")
