"""Quoted replies and signatures, as Gmail, Outlook, Apple Mail and Thunderbird write them, in en/fr/es/de."""

import pytest

from apps.connectors.email.html_text import html_to_text
from apps.connectors.email.quoting import strip_reply

GMAIL_EN = """Yes, that's the right account.

On Mon, Nov 3, 2025 at 10:20 AM Nimbus Support <support@nimbus.test>
wrote:

> Hello Ana, could you confirm your account number?
>
> --
> Nimbus Support
"""

GMAIL_FR = """Oui, c'est bien ça.

Le lun. 3 nov. 2025 à 10:20, Nimbus Support <support@nimbus.test> a écrit :

> Bonjour Chloé, pouvez-vous confirmer votre numéro de compte ?
"""

GMAIL_ES = """Sí, es correcto.

El lun, 3 nov 2025 a las 10:20, Nimbus Support (<support@nimbus.test>)
escribió:

> Hola, ¿puede confirmar su número de cuenta?
"""

GMAIL_DE = """Ja, das stimmt.

Am Mo., 3. Nov. 2025 um 10:20 Uhr schrieb Nimbus Support <
support@nimbus.test>:

> Hallo, können Sie Ihre Kundennummer bestätigen?
"""

APPLE_DE = """Ja, das stimmt.

> Am 03.11.2025 um 10:20 schrieb Nimbus Support <support@nimbus.test>:
>
> Hallo, können Sie Ihre Kundennummer bestätigen?
"""

THUNDERBIRD_DE = """Ja, das stimmt.

Nimbus Support schrieb am 03.11.25 um 10:20:
> Hallo, können Sie Ihre Kundennummer bestätigen?
"""

OUTLOOK_EN = """Thanks, that fixed it.

Ana

-----Original Message-----
From: Nimbus Support <support@nimbus.test>
Sent: Monday, November 3, 2025 10:20 AM
To: Ana Perez <ana@example.com>
Subject: RE: My invoice

Hello Ana, please restart the router.
"""

OUTLOOK_FR = """Merci, c'est réglé.

________________________________
De : Nimbus Support <support@nimbus.test>
Envoyé : lundi 3 novembre 2025 10:20
À : Chloé Martin <chloe@example.fr>
Objet : Re: Facture

Bonjour Chloé, veuillez redémarrer la box.
"""

OUTLOOK_ES = """Gracias, ya funciona.

De: Nimbus Support <support@nimbus.test>
Enviado el: lunes, 3 de noviembre de 2025 10:20
Para: Lucía <lucia@example.es>
Asunto: RE: Factura

Hola Lucía, reinicie el router.
"""

OUTLOOK_DE = """Danke, es geht wieder.

-----Ursprüngliche Nachricht-----
Von: Nimbus Support <support@nimbus.test>
Gesendet: Montag, 3. November 2025 10:20
An: Jonas <jonas@example.de>
Betreff: AW: Rechnung

Hallo Jonas, bitte starten Sie den Router neu.
"""


@pytest.mark.parametrize(
    "text, expected",
    [
        (GMAIL_EN, "Yes, that's the right account."),
        (GMAIL_FR, "Oui, c'est bien ça."),
        (GMAIL_ES, "Sí, es correcto."),
        (GMAIL_DE, "Ja, das stimmt."),
        (APPLE_DE, "Ja, das stimmt."),
        (THUNDERBIRD_DE, "Ja, das stimmt."),
        (OUTLOOK_EN, "Thanks, that fixed it.\n\nAna"),
        (OUTLOOK_FR, "Merci, c'est réglé."),
        (OUTLOOK_ES, "Gracias, ya funciona."),
        (OUTLOOK_DE, "Danke, es geht wieder."),
    ],
    ids=["gmail-en", "gmail-fr", "gmail-es", "gmail-de", "apple-de", "thunderbird-de", "outlook-en",
         "outlook-fr", "outlook-es", "outlook-de"],
)  # fmt: skip
def test_quoted_history_is_stripped(text, expected):
    assert strip_reply(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Thanks!\n-- \nAna Perez\nHead of IT, Example Corp\n+34 600 000 000", "Thanks!"),
        ("Ok, thanks\n\nSent from my iPhone", "Ok, thanks"),
        ("Merci\n\nEnvoyé de mon iPhone", "Merci"),
        ("Gracias\n\nEnviado desde mi iPhone", "Gracias"),
        ("Danke\n\nVon meinem iPhone gesendet", "Danke"),
        ("Will do.\n\nGet Outlook for Android", "Will do."),
        # Signature, then the quoted history under it.
        (
            "Fine by me.\n\n-- \nAna\n\nOn Mon, 3 Nov 2025 at 10:00, Nimbus <s@nimbus.test> wrote:\n> Ok?",
            "Fine by me.",
        ),
    ],
)
def test_signatures_are_stripped(text, expected):
    assert strip_reply(text) == expected


def test_answers_written_between_the_quoted_lines_are_kept():
    text = (
        "On Mon, Nov 3, 2025 at 10:20 AM Nimbus <support@nimbus.test> wrote:\n"
        "> What is your account number?\n"
        "12345\n"
        "> And your postcode?\n"
        "28001\n"
        "\n-- \nAna\n"
    )
    assert strip_reply(text) == "12345\n28001"


def test_a_reply_under_the_quote_is_kept():
    text = "On 3 Nov 2025, at 10:20, Nimbus <support@nimbus.test> wrote:\n> Is it fixed?\n\nYes it is."
    assert strip_reply(text) == "Yes it is."


@pytest.mark.parametrize(
    "text",
    [
        "On Monday your agent wrote: the refund is coming. It did not come.",
        "On Monday your agent wrote:\nthe refund is coming. It never came.",
        "From: my experience, this never works.\nSent: nothing yet.",
        "The price -- as agreed --\nis fine.",
    ],
)
def test_ordinary_sentences_are_not_mistaken_for_quotes(text):
    assert strip_reply(text) == text.strip()


def test_a_mail_that_is_only_a_quote_is_kept_whole():
    text = "> Please call me back\n> on 600 000 000"
    assert strip_reply(text) == text


def test_html_quote_blocks_of_every_client_are_set_apart():
    html = (
        "<div>New answer</div>"
        '<div class="gmail_signature" data-smartmail="gmail_signature">Ana | Example Corp</div>'
        '<blockquote type="cite">Apple Mail quote</blockquote>'
        '<div class="yahoo_quoted">Yahoo quote</div>'
        '<div class="moz-cite-prefix">On 03/11/2025 10:20, Nimbus wrote:</div>'
        '<div id="appendonsend"></div><hr><div id="divRplyFwdMsg">From: Nimbus</div><div>Outlook quote</div>'
    )
    main, full = html_to_text(html)

    assert main == "New answer"
    for part in ("Ana | Example Corp", "Apple Mail quote", "Yahoo quote", "Outlook quote"):
        assert part in full


def test_html_rendering_keeps_gmail_blank_lines_and_skips_scripts():
    main, _ = html_to_text(
        "<div>line one</div><div><br></div><div>line two &amp; more</div><script>x()</script>"
        "<table><tr><td>a</td><td>b</td></tr></table>"
    )
    assert main == "line one\n\nline two & more\n\na b"


def test_a_forwarded_message_is_kept():
    text = (
        "Please look at the bill below.\n\n"
        "---------- Forwarded message ---------\n"
        "From: Nimbus Billing <billing@nimbus.test>\n"
        "Date: Mon, Nov 3, 2025 at 8:00 AM\n"
        "Subject: Your bill\n"
        "To: <ana@example.com>\n\n"
        "Amount due: 120 EUR\n"
    )
    assert strip_reply(text) == text.strip()


def test_an_outlook_desktop_html_reply_loses_its_header_block():
    html = (
        '<div class="WordSection1"><p class="MsoNormal">Thanks, that fixed it.<o:p></o:p></p>'
        '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in">'
        '<p class="MsoNormal"><b>From:</b> Nimbus Support &lt;support@nimbus.test&gt;<br>'
        "<b>Sent:</b> Monday, November 3, 2025 10:20 AM<br><b>To:</b> Ana Perez &lt;ana@example.com&gt;<br>"
        "<b>Subject:</b> RE: My invoice</p></div>"
        '<p class="MsoNormal">Hello Ana, please restart the router.</p></div>'
    )
    main, full = html_to_text(html)

    assert strip_reply(main) == "Thanks, that fixed it."
    assert "please restart the router" in full
