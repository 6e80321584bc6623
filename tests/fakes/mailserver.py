"""Real mail servers on 127.0.0.1 for the email connector's tests.

`DovecotServer` runs Debian's dovecot (package `dovecot-imapd`) in the foreground from a temporary folder:
its own dovecot.conf, Maildir mailboxes, a passwd-file of plain passwords, a log file, an IMAP port that
offers STARTTLS and an IMAPS port, both with a certificate of a throwaway CA (`TestCA`). Messages are
delivered with IMAP APPEND, as any client would.

    with DovecotServer() as imap:
        imap.add_user("support", "secret")
        imap.deliver("support", "secret", raw_bytes)

`SMTPServer` is an aiosmtpd controller that keeps every message it accepts, with its envelope:

    with SMTPServer(auth=("relay", "pw")) as smtp:
        ... smtp.port ...
        assert smtp.messages[0].rcpt_tos == ["ana@example.com"]

Without dovecot the IMAP tests skip (`DOVECOT_MISSING`); CI installs it.
"""

from __future__ import annotations

import datetime
import email
import grp
import imaplib
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

DOVECOT_MISSING = "dovecot not installed (CI installs it)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dovecot_binary() -> str | None:
    found = shutil.which("dovecot")
    if found:
        return found
    return "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None


class TestCA:
    """A throwaway certificate authority and one server certificate for 127.0.0.1 / localhost."""

    __test__ = False  # not a pytest test class

    def __init__(self):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CXM test CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )  # fmt: skip
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        self.ca_pem = ca.public_bytes(serialization.Encoding.PEM).decode()
        self.cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        self.key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def write(self, folder: Path) -> tuple[Path, Path]:
        cert, key = folder / "server.pem", folder / "server.key"
        cert.write_text(self.cert_pem)
        key.write_text(self.key_pem)
        key.chmod(0o600)
        return cert, key

    def server_context(self) -> ssl.SSLContext:
        folder = Path(tempfile.mkdtemp(prefix="cxm-tls-"))
        try:
            cert, key = self.write(folder)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return context


_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
first_valid_uid = 1
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # No growing delay after failed logins (auth penalty): tests log in wrongly on purpose.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


class DovecotServer:
    """dovecot on free ports of 127.0.0.1: `port` (plain, STARTTLS offered) and `ssl_port` (IMAPS)."""

    def __init__(self, ca: TestCA | None = None, *, extra_config: str = ""):
        self.ca = ca or TestCA()
        self.extra_config = extra_config  # dovecot.conf lines added at the end (e.g. imap_capability = …)
        self.port = 0
        self.ssl_port = 0
        self.root: Path | None = None
        self.process: subprocess.Popen | None = None

    # Dovecot refuses to serve mail as root: as root, mail belongs to the package's `dovecot` user.
    def _accounts(self) -> tuple[str, str, str, int, int]:
        if os.geteuid() != 0:
            user = pwd.getpwuid(os.geteuid()).pw_name
            group = grp.getgrgid(os.getegid()).gr_name
            return user, user, group, os.geteuid(), os.getegid()
        try:
            mail = pwd.getpwnam("dovecot")
            login = "dovenull" if _user_exists("dovenull") else "nobody"
            return login, "dovecot", grp.getgrgid(mail.pw_gid).gr_name, mail.pw_uid, mail.pw_gid
        except KeyError:
            nobody = pwd.getpwnam("nobody")
            return "nobody", "nobody", grp.getgrgid(nobody.pw_gid).gr_name, nobody.pw_uid, nobody.pw_gid

    def __enter__(self) -> DovecotServer:
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError(DOVECOT_MISSING)
        login_user, internal_user, internal_group, self.uid, self.gid = self._accounts()
        self.root = Path(tempfile.mkdtemp(prefix="cxm-dovecot-"))
        self.root.chmod(0o755)  # the mail user must reach its home inside
        for name in ("run", "state", "mail", "users"):
            (self.root / name).mkdir()
        os.chown(self.root / "mail", self.uid, self.gid)
        cert, key = self.ca.write(self.root)
        self.port, self.ssl_port = free_port(), free_port()
        config = self.root / "dovecot.conf"
        config.write_text(
            _CONFIG.format(
                root=self.root,
                cert=cert,
                key=key,
                port=self.port,
                ssl_port=self.ssl_port,
                login_user=login_user,
                internal_user=internal_user,
                internal_group=internal_group,
            )
            + self.extra_config
        )
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "stderr.log", "wb"),  # noqa: SIM115 - closed with the process
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.log()
                self.__exit__(None, None, None)
                raise RuntimeError(f"dovecot did not start:\n{log}")
            time.sleep(0.05)
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                return sock.recv(100).startswith(b"* OK")
        except OSError:
            return False

    def log(self) -> str:
        parts = []
        for name in ("dovecot.log", "stderr.log"):
            path = self.root / name if self.root else None
            if path and path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)

    def add_user(self, username: str, password: str) -> None:
        home = self.root / "mail" / username
        # One passwd-file per user: dovecot re-reads a changed file at most once a second.
        (self.root / "users" / username).write_text(
            f"{username}:{{PLAIN}}{password}:{self.uid}:{self.gid}::{home}\n"
        )

    def client(self, username: str, password: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(username, password)
        return client

    def deliver(self, username: str, password: str, raw: bytes, mailbox: str = "INBOX") -> int:
        """Put a message in a mailbox (created if needed); returns its UID."""
        client = self.client(username, password)
        try:
            if mailbox.upper() != "INBOX":
                client.create(mailbox)  # NO when it exists: fine
            status, data = client.append(mailbox, None, None, raw)
            assert status == "OK", data
            return int(data[0].split(b"APPENDUID ")[1].split(b" ")[1].rstrip(b"]"))
        finally:
            client.logout()

    def recreate(self, username: str, password: str, mailbox: str) -> None:
        """Delete and create a mailbox again: the server gives it a new UIDVALIDITY."""
        client = self.client(username, password)
        try:
            client.delete(mailbox)
            status, data = client.create(mailbox)
            assert status == "OK", data
        finally:
            client.logout()

    def kick(self, username: str) -> None:
        """Close every connection of the user, as a server restart or an admin would."""
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        command = [doveadm, "-c", str(self.root / "dovecot.conf"), "kick", username]
        subprocess.run(command, check=True, capture_output=True)

    def uidvalidity(self, username: str, password: str, mailbox: str = "INBOX") -> int:
        client = self.client(username, password)
        try:
            status, data = client.status(mailbox, "(UIDVALIDITY)")
            assert status == "OK", data
            return int(data[0].split(b"UIDVALIDITY ")[1].rstrip(b")"))
        finally:
            client.logout()


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@dataclass
class CapturedMail:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    message: EmailMessage = field(init=False)

    def __post_init__(self):
        self.message = email.message_from_bytes(self.content, policy=policy.default)


class _Handler:
    def __init__(self, server: SMTPServer):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.server.refuse.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.server.messages.append(
            CapturedMail(
                mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos), content=envelope.content
            )
        )
        return "250 Message accepted for delivery"


class SMTPServer:
    """An SMTP server (aiosmtpd) on a free port of 127.0.0.1 that keeps what it accepts.

    tls: "starttls" (offered; required for AUTH) or "ssl" (implicit TLS), with the CA's certificate;
    auth: (username, password) required before MAIL (use it with TLS: aiosmtpd warns about AUTH in clear);
    refuse: {address: "550 5.1.1 No such user"} answers RCPT TO for those addresses.
    """

    def __init__(
        self,
        *,
        tls: str | None = None,
        ca: TestCA | None = None,
        auth: tuple[str, str] | None = None,
        refuse: dict[str, str] | None = None,
    ):
        self.tls = tls
        self.ca = ca or (TestCA() if tls else None)
        self.auth = auth
        self.refuse = {address.lower(): answer for address, answer in (refuse or {}).items()}
        self.messages: list[CapturedMail] = []
        self.port = 0
        self.controller = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(auth_data, LoginPassword)
            and self.auth is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self.auth
        )
        # handled=False on failure: aiosmtpd then answers 535 itself.
        return (
            AuthResult(success=True, auth_data=auth_data) if ok else AuthResult(success=False, handled=False)
        )

    def __enter__(self) -> SMTPServer:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        kwargs: dict = {"hostname": "127.0.0.1", "port": self.port, "server_hostname": "mx.test"}
        if self.tls == "ssl":
            kwargs["ssl_context"] = self.ca.server_context()
        elif self.tls == "starttls":
            kwargs["tls_context"] = self.ca.server_context()
        if self.auth:
            kwargs.update(
                authenticator=self._authenticate,
                auth_required=True,
                # aiosmtpd does not count implicit TLS as TLS: it would then never offer AUTH.
                auth_require_tls=self.tls == "starttls",
            )
        self.controller = Controller(_Handler(self), **kwargs)
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.controller is not None:
            self.controller.stop()
