"""Mail as broken mailers send it: unquoted boundaries, charset aliases in encoded words, mangled header
blocks; a body never empty while the message holds text; and a parser no input makes crash (hypothesis)."""

import base64

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.connectors.base import PayloadRejected
from apps.connectors.email.parsing import parse_email

OUTLOOK_EXPRESS = b"""From: "Ann Lee" <ann@example.com>
To: help@nimbus.example
Subject: question
Date: Mon, 16 Nov 2026 10:00:00 +0100
Message-ID: <oe1@example.com>
MIME-Version: 1.0
Content-Type: multipart/alternative;
\tboundary=----=_NextPart_000_0005_01C8A7F1.2F3B4C50
X-Mailer: Microsoft Outlook Express 6.00.2900.2180

This is a multi-part message in MIME format.

------=_NextPart_000_0005_01C8A7F1.2F3B4C50
Content-Type: text/plain;
\tcharset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

My phone does not turn on since the update =E9t=E9.

------=_NextPart_000_0005_01C8A7F1.2F3B4C50
Content-Type: text/html;
\tcharset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

<p>My phone does not turn on since the update =E9t=E9.</p>

------=_NextPart_000_0005_01C8A7F1.2F3B4C50--
"""


def test_an_unquoted_outlook_express_boundary_gives_the_body_and_no_fake_attachment():
    message = parse_email(OUTLOOK_EXPRESS)
    assert message.text == "My phone does not turn on since the update été."
    assert "attachments" not in message.metadata and "mime_defects" not in message.metadata


def test_encoded_words_use_the_charset_aliases_of_bodies():
    # 镕 is in GBK / GB18030 but not in GB2312: mailers label such text gb2312 all the same.
    word = "=?gb2312?B?" + base64.b64encode("李镕 的问题".encode("gbk")).decode() + "?="
    raw = f"From: {word} <li@example.cn>\nSubject: {word}\nMessage-ID: <gb@x>\n\nhi\n".encode()
    message = parse_email(raw)
    assert message.author.display_name == "李镕 的问题" and message.subject == "李镕 的问题"


def test_an_unindented_continuation_line_does_not_hide_a_later_from():
    raw = (
        b"Subject: a long subject\nthat continues unindented\n"
        b"From: bob@example.com\nMessage-ID: <c@x>\n\nbody\n"
    )
    message = parse_email(raw)
    assert (
        message.author.email == "bob@example.com"
        and message.subject == "a long subject that continues unindented"
    )
    assert message.text == "body"


def test_a_from_indented_by_mistake_is_still_the_sender():
    raw = b"Message-ID: <l@x>\nSubject: hi\n From: carol@example.com\nTo: help@nimbus.example\n\nbody text\n"
    message = parse_email(raw)
    assert (
        message.author.email == "carol@example.com"
        and message.subject == "hi"
        and message.text == "body text"
    )


def test_a_text_part_taken_for_an_attachment_still_gives_the_body():
    raw = (
        b"From: dan@example.com\nMessage-ID: <t@x>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\n'
        b'Content-Type: text/plain; name="message.txt"\n'
        b'Content-Disposition: inline; filename="message.txt"\n\n'
        b"Please cancel my subscription.\n--b1--\n"
    )
    assert parse_email(raw).text == "Please cancel my subscription."


_header = st.sampled_from(
    [
        b"From: a@b.example",
        b"Subject: =?utf-8?q?x?=",
        b" From: c@d.example",
        b"Content-Type: multipart/mixed; boundary=--=x",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=2000),
        st.lists(st.one_of(_header, st.binary(max_size=60)), max_size=12).map(
            lambda lines: b"\n".join(lines)
        ),
    )
)
def test_no_input_makes_the_parser_raise_anything_but_a_rejection(raw):
    try:
        message = parse_email(raw)
    except PayloadRejected:
        return
    assert isinstance(message.text, str) and "\x00" not in message.text
