#!/usr/bin/env python3
"""One entry point for a fresh machine that has only Python 3.11.

    python3 dev.py run      install everything, then run the whole stack
                            (web, worker, beat, PostgreSQL, Redis)
    python3 dev.py test     install everything, then run the test suite on the real services
    python3 dev.py test --external
                            the same suite on Debian's own PostgreSQL (with pgvector) and redis-server,
                            installed by deploy/install-debian.sh when missing (root) and set up only by
                            the README's DBA script, on free ports in a temporary folder
    python3 dev.py bench    install everything, then run the benchmarks in bench/
    python3 dev.py manage … run a manage.py command against the embedded services (they must be running)

The first call creates `.venv/`, installs the project with pip and the front-end assets with npm;
later calls reinstall only when pyproject.toml or package.json changed. Everything else is done by
`cxm.stack`, inside the virtual environment.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".cxm-installed"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "package.json", "package-lock.json"):
        path = ROOT / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _say(text: str) -> None:
    print(f"\033[1m[cxm]\033[0m {text}", flush=True)


def ensure_installed() -> None:
    if sys.version_info[:2] != (3, 11):
        _say(f"warning: CXM targets Python 3.11; this is {sys.version.split()[0]}")
    fingerprint = _fingerprint()
    if VENV_PYTHON.exists() and STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    if not VENV_PYTHON.exists():
        _say(f"creating virtual environment in {VENV.relative_to(ROOT)}/")
        venv.EnvBuilder(with_pip=True).create(VENV)
    _say("installing Python packages (first run takes a minute or two)")
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    install_frontend_assets()
    STAMP.write_text(fingerprint)


def install_frontend_assets() -> None:
    """htmx, its ws extension and the chart library come from the npm registry, never from the repo."""
    npm = shutil.which("npm")
    if npm is None:
        _say("warning: npm not found; pages will load without htmx and charts until `npm ci` is run")
        return
    _say("installing front-end assets from the npm registry")
    command = "ci" if (ROOT / "package-lock.json").exists() else "install"
    subprocess.run([npm, command, "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True)


# Debian packages the test suite uses: a real browser for page tests, a real IMAP server for email, fonts
# to draw the Latin, Cyrillic, Arabic, Devanagari and Chinese text of the images that the OCR tests read,
# and the OCR reader of the scripts RapidOCR cannot read, tesseract, with its Russian, Arabic and Hindi
# packs (servers get them from deploy/install-debian.sh, containers from docker/Dockerfile).
TESSDATA = "/usr/share/tesseract-ocr/5/tessdata"
TEST_SYSTEM_PACKAGES = {
    "chromium": "/usr/bin/chromium",
    "dovecot-imapd": "/usr/sbin/dovecot",
    "fonts-dejavu-core": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "fonts-wqy-microhei": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "fonts-lohit-deva": "/usr/share/fonts/truetype/lohit-devanagari/Lohit-Devanagari.ttf",
    "tesseract-ocr": "/usr/bin/tesseract",
    "tesseract-ocr-rus": f"{TESSDATA}/rus.traineddata",
    "tesseract-ocr-ara": f"{TESSDATA}/ara.traineddata",
    "tesseract-ocr-hin": f"{TESSDATA}/hin.traineddata",
}


def ensure_test_system_packages() -> None:
    missing = [name for name, path in TEST_SYSTEM_PACKAGES.items() if not Path(path).exists()]
    if not missing:
        return
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        _say(
            f"note: {', '.join(missing)} not installed (needs root and apt-get); the tests that use them skip"
        )
        return
    _say(f"installing {', '.join(missing)} from Debian's packages")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([apt, "update", "-qq"], check=True, env=env)
    subprocess.run(
        [apt, "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    # dovecot's package starts a system-wide daemon; the tests start their own on a free port.
    subprocess.run(["service", "dovecot", "stop"], check=False, capture_output=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    ensure_installed()
    if argv[0] == "test":
        ensure_test_system_packages()
    os.chdir(ROOT)
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), "-m", "cxm.stack", *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
