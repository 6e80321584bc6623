"""Every page of the app, as each role that may open it, in Chromium on the real ASGI server with DEBUG
off: at 390×844 (a phone) nothing scrolls sideways, and no script or style breaks the Content-Security-
Policy. Each page is saved as a screenshot at 1440 px and at 390 px in test-artifacts/pages/ (ignored by
git), for people to look at.

The pages are the permission matrix's GET rows (tests/security/permission_matrix.py, so a new page is
visited as soon as it has its row) that answer a whole HTML document: partials, exports, the REST API and
Django's own admin are left out.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from tests.connectors.livechat.test_widget_browser import CHROMIUM, ROOT, AsgiServer, _refused_by_policy
from tests.factories import PASSWORD

from .permission_matrix import PUBLIC
from .test_permission_matrix import build_url, row_for, url_patterns
from .test_permission_matrix import world as world  # noqa: F401 (the matrix's objects, a fixture)

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
    pytest.mark.django_db(transaction=True),
]

SHOTS = ROOT / "test-artifacts" / "pages"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
# Who visits a page, in this order of preference for its screenshots; each one the matrix lets in visits.
VISITORS = ["admin", "agent", "limited_agent", "marketer"]
SKIPPED = re.compile(r"^(admin[:/]|api:(?!docs$)|health$|logout$|livechat:demo$)")
# The inbox and the conversation are re-laid out by another change under way (three panes, stacked
# screens below 768 px): their sideways scroll at 390 px is that change's to fix.
INBOX_PAGES = {"inbox:index", "inbox:conversation"}


def _pages(built: dict, *, inbox: bool) -> list[tuple[str, str, list[str]]]:
    """(key, url per visitor, visitors) of every whole page of the matrix."""
    pages = []
    for key, route, pattern in url_patterns():
        row = row_for(key)
        if row is None or row.method != "GET" or SKIPPED.match(key) or (key in INBOX_PAGES) != inbox:
            continue
        if row.allowed == PUBLIC:
            visitors = ["anonymous"]
        else:
            visitors = [role for role in VISITORS if role in row.allowed]
        if not visitors:
            continue
        urls = {
            role: build_url(
                key,
                route,
                pattern,
                row,
                built["own_brand_objects"] if role == "limited_agent" else built["objects"],
            )
            for role in visitors
        }
        pages.append((key, urls, visitors))
    if not inbox:  # the error pages, as a marketer meets them
        pages += [("error-403", {"marketer": "/inbox/"}, ["marketer"])]
        pages += [("error-404", {"marketer": "/no-such-page/"}, ["marketer"])]
    return pages


def _browse(built: dict, pages, tmp_path) -> list[str]:
    """Visit the pages; return what scrolled sideways, what broke the CSP, and what was no page at all."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    server = AsgiServer(tmp_path / "uvicorn.log", debug=False)
    server.start()
    problems: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-sync"]
            )
            tabs = {}
            for role in ["anonymous", *VISITORS]:
                context = browser.new_context(viewport=PHONE)
                tab = context.new_page()
                errors: list[str] = []
                tab.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
                tab.on("console", lambda message, errors=errors: _refused_by_policy(message, errors))
                if role != "anonymous":
                    tab.goto(f"{server.url}/login/")
                    tab.get_by_label("Username").fill(built["members"][role].user.username)
                    tab.get_by_label("Password").fill(PASSWORD)
                    tab.keyboard.press("Enter")
                    tab.wait_for_url(lambda address: "/login/" not in address)
                tabs[role] = (tab, errors)
            for key, urls, visitors in pages:
                for number, role in enumerate(visitors):
                    tab, errors = tabs[role]
                    try:
                        response = tab.goto(f"{server.url}{urls[role]}", wait_until="load")
                    except PlaywrightError as error:
                        if "Download is starting" in str(error):
                            break  # a file to download (an export): not a page
                        raise
                    if response is None or "text/html" not in response.headers.get("content-type", ""):
                        break  # an export or an API answer: not a page
                    if "<html" not in response.text()[:400].lower():
                        break  # a partial, swapped into a page by htmx
                    if urlsplit(tab.url).path == reverse("inbox:index") and key not in INBOX_PAGES:
                        continue  # the home page of an agent is the inbox, which the other test visits
                    tab.wait_for_timeout(150)  # htmx's first swaps (load triggers)
                    width = tab.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
                    if width[0] > width[1]:
                        problems.append(
                            f"{key} as {role}: {width[0]} px wide at {width[1]} px ({urls[role]})"
                        )
                    name = key.replace(":", "-").replace("/", "_")
                    if number == 0:
                        tab.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
                        tab.set_viewport_size(DESKTOP)
                        tab.wait_for_timeout(100)
                        tab.screenshot(path=str(SHOTS / f"{name}-1440.png"), full_page=True)
                        tab.set_viewport_size(PHONE)
                    if errors:
                        problems.append(f"{key} as {role}: {'; '.join(errors)}")
                        errors.clear()
            browser.close()
    finally:
        server.stop()
    return problems


def test_no_page_scrolls_sideways_on_a_phone(world, tmp_path):
    pages = _pages(world, inbox=False)
    assert len(pages) > 30
    problems = _browse(world, pages, tmp_path)
    assert not problems, "\n".join(problems)


def test_the_inbox_and_the_conversation_do_not_scroll_sideways_on_a_phone(world, tmp_path):
    problems = _browse(world, _pages(world, inbox=True), tmp_path)
    assert not problems, "\n".join(problems)
