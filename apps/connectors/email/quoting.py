"""What the customer wrote this time, without the quoted history of the thread or their signature.

Recognised: attribution lines ("On … wrote:", "Le … a écrit :", "El … escribió:", "Am … schrieb …:",
"Op … schreef …:", "Il … ha scritto:", "Em … escreveu:", "Ana <ana@x> wrote:"), Outlook's
"-----Original Message-----" and its "From: / Sent: / To: / Subject:" header block (in the same languages),
"> " quoted lines, the "-- " signature delimiter and mobile footers ("Sent from my iPhone", "Envoyé de
mon iPhone", "Enviado desde mi iPhone", "Von meinem iPhone gesendet", "Get Outlook for iOS"…).
A forwarded message ("---------- Forwarded message ---------") is kept: it is what the customer sends.
A reply written between the quoted lines (inline answers) is kept; when stripping would leave nothing,
the text is returned whole.
"""

from __future__ import annotations

import re

_ATTRIBUTIONS = [
    r"On\s.{1,300}\bwrote\s*:",
    r"Le\s.{1,300}\ba\s+écrit\s*:",
    r"El\s.{1,300}\bescribió\s*:",
    r"Am\s.{1,300}\bschrieb\b.{0,300}:",
    r".{1,200}\bschrieb\s+am\s.{1,200}:",
    r"Op\s.{1,300}\bschreef\b.{0,300}:",
    r"Il\s.{1,300}\bha\s+scritto\s*:",
    r"Em\s.{1,300}\bescreveu\s*:",
    r".{0,200}\S+@\S+\s+(?:wrote|a\s+écrit|escribió|schrieb|schreef|ha\s+scritto|escreveu)\s*:",
]
ATTRIBUTION = re.compile(r"^\s*(?:" + "|".join(_ATTRIBUTIONS) + r")\s*$", re.IGNORECASE)
ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Message d'origine|Mensaje original|Ursprüngliche Nachricht|"
    r"Originalnachricht|Oorspronkelijk bericht|Messaggio originale|Mensagem original)\s*-{2,}\s*$",
    re.IGNORECASE,
)
HEADER_FROM = re.compile(r"^\s*\*?(?:From|De|Von|Van|Da)\s*\*?\s*:\s*\S", re.IGNORECASE)
HEADER_SENT = re.compile(
    r"^\s*\*?(?:Sent|Date|Envoyé|Enviado|Enviado el|Gesendet|Datum|Verzonden|Inviato|Data)\s*\*?\s*:",
    re.IGNORECASE,
)
HEADER_OTHER = re.compile(
    r"^\s*\*?(?:To|À|A|Para|An|Aan|Cc|Subject|Objet|Asunto|Betreff|Onderwerp|Oggetto|Assunto)\s*\*?\s*:",
    re.IGNORECASE,
)
# A forwarded message is content the customer wants read, not history to hide.
FORWARD_MARKER = re.compile(
    r"^\s*(?:-{3,}\s*(?:Forwarded message|Message transféré|Mensaje reenviado|Weitergeleitete Nachricht|"
    r"Doorgestuurd bericht|Messaggio inoltrato|Mensagem encaminhada)\s*-{3,}|Begin forwarded message:|"
    r"Début du message réexpédié\s*:|Inicio del mensaje reenviado:|"
    r"Anfang der weitergeleiteten Nachricht:)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
UNDERSCORES = re.compile(r"^\s*_{8,}\s*$")
MOBILE_FOOTER = re.compile(
    r"^\s*(?:Sent from my\s.*|Sent from (?:Outlook|Mail|Yahoo Mail|Gmail|AOL)\b.*|Get Outlook for\s.*|"
    r"Sent with\s.*|Sent via\s.*|Envoyé de mon\s.*|Envoyé depuis\s.*|Obtenir Outlook pour\s.*|"
    r"Télécharger Outlook pour\s.*|Enviado desde\s.*|Obtener Outlook para\s.*|Von meinem\s.*\sgesendet\.?|"
    r"Gesendet von\s.*|Gesendet mit\s.*|Holen Sie sich Outlook für\s.*|Verstuurd vanaf\s.*|"
    r"Inviato da\s.*|Enviado do meu\s.*)\s*$",
    re.IGNORECASE,
)


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _is_signature_delimiter(line: str) -> bool:
    return line.rstrip() == "--"


def _attribution_span(lines: list[str], index: int) -> int:
    """How many lines (1–3: clients wrap long ones) the attribution starting at `index` takes, or 0."""
    for span in (1, 2, 3):
        window = lines[index : index + span]
        if len(window) < span or any(_is_quoted(line) or not line.strip() for line in window[1:]):
            return 0
        joined = " ".join(line.strip() for line in window)
        # A date or an address is always there; "On Monday you wrote:" in a sentence is not an attribution.
        if ATTRIBUTION.match(joined) and re.search(r"[\d@]", joined):
            return span
    return 0


def _is_header_block(lines: list[str], index: int) -> bool:
    if not HEADER_FROM.match(lines[index]):
        return False
    following = [line for line in lines[index + 1 : index + 6] if line.strip()][:4]
    sent = sum(1 for line in following if HEADER_SENT.match(line))
    other = sum(1 for line in following if HEADER_OTHER.match(line))
    return sent >= 1 and sent + other >= 2


def _answers_inline(rest: list[str]) -> bool:
    """Does the customer write between the quoted lines that follow an attribution?"""
    seen_quote = False
    for line in rest:
        if _is_quoted(line):
            seen_quote = True
        elif not line.strip():
            continue
        elif not seen_quote:
            return False  # the quoted original follows without "> " marks: nothing of theirs after it
        else:
            return not (_is_signature_delimiter(line) or MOBILE_FOOTER.match(line))
    return False


def _without_quoted_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if not _is_quoted(line)]


def _cut_quoted_history(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if _is_quoted(line):
            continue
        if FORWARD_MARKER.match(line):
            return _without_quoted_lines(lines[:index]) + lines[index:]
        if ORIGINAL_MESSAGE.match(line):
            return _without_quoted_lines(lines[:index])
        span = _attribution_span(lines, index)
        if span:
            rest = lines[index + span :]
            if _answers_inline(rest):
                return _without_quoted_lines(lines[:index] + rest)
            return _without_quoted_lines(lines[:index])
        if _is_header_block(lines, index):
            cut = index
            above = [i for i in range(index - 1, max(-1, index - 3), -1) if lines[i].strip()]
            if above and UNDERSCORES.match(lines[above[0]]):
                cut = above[0]
            return _without_quoted_lines(lines[:cut])
    return _without_quoted_lines(lines)


def _cut_signature(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if index and _is_signature_delimiter(line):
            lines = lines[:index]
            break
    last = [i for i, line in enumerate(lines) if line.strip()][-3:]
    for index in last:
        if len(lines[index]) <= 100 and MOBILE_FOOTER.match(lines[index]):
            return lines[:index]
    return lines


def tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def strip_reply(text: str) -> str:
    """The new part of a reply: without quoted history and signature; the whole text when that is all."""
    lines = tidy(text).split("\n")
    stripped = tidy("\n".join(_cut_signature(_cut_quoted_history(lines))))
    return stripped or tidy(text)
