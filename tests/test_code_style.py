import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (ROOT / ".venv/bin/ruff").exists(), reason="ruff missing"
)
def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(ROOT / ".venv/bin/ruff")
    result = subprocess.run([ruff, "check", str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_template_comments_close_on_their_line():
    """Django's {# … #} comments are one line only: one spread over two lines is printed on the page."""
    unclosed = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("apps", "templates")
        for path in sorted((ROOT / folder).rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "{#" in line and "#}" not in line.split("{#", 1)[1]
    ]
    assert not unclosed, f"use {{% comment %}} for comments over several lines: {unclosed}"
