"""Raw messages for the email tests: recorded-style files in mails/, and a builder for small variations."""

from __future__ import annotations

from pathlib import Path

MAILS = Path(__file__).parent / "mails"


def eml(name: str) -> bytes:
    return (MAILS / name).read_bytes()


def mail(
    *,
    message_id: str | None = "<m1@example.com>",
    sender: str = "Ana Perez <ana@example.com>",
    to: str = "Nimbus Support <support@nimbus.test>",
    subject: str = "Hello",
    body: str = "Hello there",
    date: str | None = "Mon, 03 Nov 2025 10:00:00 +0000",
    headers: dict[str, str] | None = None,
    content_type: str = "text/plain; charset=utf-8",
) -> bytes:
    """A small RFC 822 message with CRLF line ends; None leaves a header out."""
    lines = []
    for name, value in {
        "From": sender,
        "To": to,
        "Subject": subject,
        "Date": date,
        "Message-ID": message_id,
        "MIME-Version": "1.0",
        "Content-Type": content_type,
        **(headers or {}),
    }.items():
        if value is not None:
            lines.append(f"{name}: {value}")
    text = "\r\n".join(lines) + "\r\n\r\n" + body.replace("\r\n", "\n").replace("\n", "\r\n") + "\r\n"
    return text.encode("utf-8")
