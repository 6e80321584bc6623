"""No installed package has a known vulnerability: pip-audit checks the installed set (what pyproject.toml
resolved to) against the PyPI advisory data (its JSON API). A package with a published vulnerability fails
the run; upgrade it (or its floor in pyproject.toml) to a fixed version.

Where that API cannot be reached (a machine behind a mirror that serves only the package index), pip-audit
can audit nothing: the test then skips and says so, instead of passing on an empty audit.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _audit(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pip_audit", "--vulnerability-service", "pypi", "--format", "json"]
        + ["--progress-spinner", "off", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_no_installed_dependency_has_a_known_vulnerability(tmp_path):
    result = _audit("--skip-editable")
    try:
        report = json.loads(result.stdout)
    except ValueError:
        pytest.skip(f"pip-audit could not run against PyPI here: {result.stderr.strip()[-500:]}")
    dependencies = report["dependencies"]
    audited = [d for d in dependencies if not d.get("skip_reason")]
    if not audited:
        reason = dependencies[0]["skip_reason"] if dependencies else "no dependency listed"
        pytest.skip(
            "the PyPI JSON API (https://pypi.org/pypi/<name>/<version>/json) answers nothing from this "
            f"machine, so pip-audit audited none of {len(dependencies)} packages (e.g. {reason!r})"
        )
    vulnerable = {
        f"{d['name']} {d['version']}": [
            f"{v['id']} (fixed in {', '.join(v['fix_versions']) or '—'})" for v in d["vulns"]
        ]
        for d in audited
        if d["vulns"]
    }
    assert vulnerable == {}, json.dumps(vulnerable, indent=2)

    # And the audit does catch one: a Django release with published advisories.
    (tmp_path / "old.txt").write_text("django==4.2.0\n")
    caught = json.loads(
        _audit("--requirement", str(tmp_path / "old.txt"), "--no-deps", "--disable-pip").stdout
    )
    assert [d["vulns"] for d in caught["dependencies"] if d["name"] == "django"][0]
