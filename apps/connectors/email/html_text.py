"""HTML mail as readable text: paragraphs kept, tags dropped, quoted history and signatures set apart.

Mail clients mark what they quote and append: Gmail (`div.gmail_quote`, `div.gmail_signature`), Apple Mail
and Thunderbird (`blockquote type=cite`, `.moz-cite-prefix`, `.moz-signature`), Yahoo (`.yahoo_quoted`),
Outlook on the web (`#appendonsend`, `#divRplyFwdMsg`: everything after them is the quoted original). The
text inside those is kept in the full rendering only.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

SKIPPED = {"script", "style", "head", "title", "template", "noscript", "object", "iframe", "svg"}
VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
}  # fmt: skip
PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl"}
BLOCK = PARAGRAPH | {
    "div", "tr", "li", "dd", "dt", "section", "article", "header", "footer", "address", "center",
    "form", "fieldset", "figure", "main", "nav", "aside",
}  # fmt: skip
QUOTE_CLASSES = {"gmail_quote", "gmail_extra", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote"}
SIGNATURE_CLASSES = {"gmail_signature", "moz-signature"}
SIGNATURE_IDS = {"signature", "signature_bookmark"}
# Outlook on the web puts the quoted original *after* these, as siblings: everything that follows is quoted.
CUT_IDS = {"appendonsend", "divrplyfwdmsg"}


def _is_set_apart(tag: str, attributes: dict[str, str]) -> bool:
    classes = set(attributes.get("class", "").lower().split())
    if classes & (QUOTE_CLASSES | SIGNATURE_CLASSES):
        return True
    if attributes.get("id", "").lower() in SIGNATURE_IDS:
        return True
    if attributes.get("data-smartmail") == "gmail_signature":
        return True
    return tag == "blockquote" and attributes.get("type", "").lower() == "cite"


class _Lines:
    """Text laid out as a browser would: blocks start on a new line, paragraphs after a blank one."""

    def __init__(self):
        self.lines: list[str] = []
        self.current = ""

    def text(self, value: str) -> None:
        self.current = (self.current + value) if self.current.strip() else value.lstrip()

    def line_break(self) -> None:
        self.lines.append(self.current.strip())
        self.current = ""

    def block(self) -> None:
        if self.current.strip():
            self.line_break()
        self.current = ""

    def paragraph(self) -> None:
        self.block()
        if self.lines and self.lines[-1]:
            self.lines.append("")

    def result(self) -> str:
        self.block()
        return re.sub(r"\n{3,}", "\n\n", "\n".join(self.lines).replace("\xa0", " ")).strip()


class _Renderer(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.full = _Lines()
        self.main = _Lines()
        self.stack: list[tuple[str, bool]] = []  # (tag, whether it set its content apart)
        self.skipping = 0
        self.set_apart = 0
        self.cut = False
        self.pre = 0

    def _do(self, operation: str, *args) -> None:
        getattr(self.full, operation)(*args)
        if not self.set_apart and not self.cut:
            getattr(self.main, operation)(*args)

    def _boundary(self, tag: str) -> None:
        if tag in PARAGRAPH or tag == "hr":
            self._do("paragraph")
        elif tag in BLOCK:
            self._do("block")

    def handle_starttag(self, tag, attrs):
        attributes = {name.lower(): value or "" for name, value in attrs}
        if attributes.get("id", "").lower() in CUT_IDS:
            self.cut = True
        if tag in SKIPPED:
            self.skipping += 1
        apart = tag not in VOID and _is_set_apart(tag, attributes)
        self._boundary(tag)
        if apart:
            self._do("block")
            self.set_apart += 1
        if tag == "br":
            self._do("line_break")
        elif tag == "li":
            self._do("text", "- ")
        elif tag in ("td", "th"):
            self._do("text", " ")
        elif tag == "img" and attributes.get("alt", "").strip():
            self._do("text", f"[{attributes['alt'].strip()}]")
        if tag in VOID:
            return
        if tag == "pre":
            self.pre += 1
        self.stack.append((tag, apart))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        if tag in VOID or not any(open_tag == tag for open_tag, _ in self.stack):
            return
        # Close what was left open inside it (HTML mail is rarely well-formed).
        while self.stack:
            open_tag, apart = self.stack.pop()
            self._boundary(open_tag)
            if apart:
                self.set_apart -= 1
            if open_tag == "pre":
                self.pre -= 1
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self.skipping:
            return
        if not self.pre:
            self._do("text", re.sub(r"\s+", " ", data))
            return
        for index, line in enumerate(data.replace("\r\n", "\n").split("\n")):
            if index:
                self._do("line_break")
            self._do("text", line)


def html_to_text(html: str) -> tuple[str, str]:
    """Return (the text without quoted history and signature blocks, the full text)."""
    renderer = _Renderer()
    try:
        renderer.feed(html)
        renderer.close()
    except Exception:  # html.parser is lenient, but whatever it did parse is kept in any case
        pass
    return renderer.main.result(), renderer.full.result()
