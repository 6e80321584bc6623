"""Production settings: `manage.py check --deploy` has nothing to warn about with the documented production
environment, and the process served that way sends HSTS, redirects plain HTTP and marks its cookies secure."""

import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from apps.connectors.kinds import ChannelKind
from apps.connectors.webhook.connector import sign
from tests.connectors.livechat.test_widget_browser import ROOT, _free_port, _test_database_url
from tests.factories import ChannelFactory

PRODUCTION = {
    "DEBUG": "false",
    "SECURE_COOKIES": "1",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "example.com,127.0.0.1",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
}


def _environment(**extra) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in {"CXM_TESTING", "DEBUG"}}
    return {**env, **PRODUCTION, **extra}


def test_check_deploy_passes_with_the_production_environment():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _get(url: str, headers: dict, data: bytes | None = None) -> tuple[int, object]:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, data=data, headers=headers), timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


@pytest.mark.django_db(transaction=True)
def test_the_production_server_sends_hsts_redirects_http_and_secures_cookies(tmp_path, brand_a):
    channel = ChannelFactory(brand=brand_a, kind=ChannelKind.WEBHOOK, credentials={"signing_secret": "s"})
    port = _free_port()
    from django.conf import settings

    # The test's own key: the server must decrypt the channel credentials the test stored.
    env = _environment(DATABASE_URL=_test_database_url(), CXM_TESTING="", SECRET_KEY=settings.SECRET_KEY)
    with open(tmp_path / "uvicorn.log", "wb") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "cxm.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
            + ["--no-access-log", "--lifespan", "off"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = _get(f"{url}/health/?live=1", {})
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (
                    tmp_path / "uvicorn.log"
                ).read_text()
                time.sleep(0.2)
        assert status == 200  # the load balancer's probe is not redirected

        status, headers = _get(f"{url}/login/", {})
        assert status == 301 and headers["Location"] == f"https://127.0.0.1:{port}/login/"

        status, headers = _get(f"{url}/login/", {"X-Forwarded-Proto": "https"})
        assert status == 200
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert "Secure" in headers["Set-Cookie"] and "csrftoken" in headers["Set-Cookie"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"

        # Webhooks (taken by the intake in front of Django): the same redirect and headers.
        body = b'{"id": "1", "text": "hi", "author": {"id": "u"}}'
        timestamp = str(int(time.time()))
        signed = {"X-CXM-Timestamp": timestamp, "X-CXM-Signature": sign("s", timestamp, body)}
        signed["Content-Type"] = "application/json"
        hook = f"{url}/hooks/{channel.webhook_token}/"
        status, headers = _get(hook, signed, body)
        assert status == 301 and headers["Location"].startswith("https://")
        status, headers = _get(hook, {**signed, "X-Forwarded-Proto": "https"}, body)
        assert status == 200
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert "script-src 'self'" in headers["Content-Security-Policy"]
    finally:
        server.terminate()
        server.wait(10)
