"""Local stand-ins for the platforms notifications go to: a group robot and a mail server.

`RobotServer` is a `ThreadingHTTPServer` on 127.0.0.1 that records every request (path and
query, headers, body) and answers from a script (`answers`: status and JSON, the last one
repeated), as WeCom, DingTalk and Feishu answer. `MailServer` is an aiosmtpd server that
records every message and can refuse recipients, the message or a login. Imported by the
integration and CLI tests as `notify_fakes` (pytest puts `tests/` on `sys.path`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

TLS = Path(__file__).resolve().parent / "fixtures" / "tls"
CERT = TLS / "smtp-test-cert.pem"
KEY = TLS / "smtp-test-key.pem"
OK = {"errcode": 0, "errmsg": "ok"}


@dataclass(frozen=True)
class Posted:
    """One request a robot received."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def json(self) -> Any:
        """The body, parsed."""
        return json.loads(self.body)


@dataclass
class RobotServer:
    """A robot webhook answering from a script; `accepted` counts the messages it took."""

    answers: list[tuple[int, Any]]
    requests: list[Posted] = field(default_factory=list)
    accepted: int = 0
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        """The webhook URL for `path` (with its query, as the platform gives it)."""
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, posted: Posted) -> tuple[int, bytes]:
        """Record a request; the next scripted answer."""
        with self.lock:
            self.requests.append(posted)
            index = min(len(self.requests), len(self.answers)) - 1
            status, data = self.answers[index]
            ok = status == 200 and isinstance(data, dict) and _accepts(data)
            self.accepted += ok
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        return status, body


def _accepts(data: dict[str, Any]) -> bool:
    return data.get("errcode", data.get("code", data.get("StatusCode"))) == 0


def _handler(robot: RobotServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            parts = urlsplit(self.path)
            posted = Posted(
                parts.path,
                {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
            )
            status, body = robot.answer(posted)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    return Handler


class Robots:
    """Starts robot servers for a test and stops them after it."""

    def __init__(self) -> None:
        self.servers: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(self, *answers: tuple[int, Any]) -> RobotServer:
        """A robot answering `answers` in turn (the last one from then on); 200 ok if none."""
        robot = RobotServer(list(answers) or [(200, OK)])
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(robot))
        robot.port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        self.servers.append((server, thread))
        return robot

    def stop(self) -> None:
        """Shut every server down."""
        for server, thread in self.servers:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def robots() -> Iterator[Robots]:
    """A fixture body: robot servers, stopped after the test."""
    started = Robots()
    yield started
    started.stop()


def dingtalk_signature(timestamp: str, secret: str) -> str:
    """DingTalk's documented signature: base64(HMAC-SHA256(secret, "timestamp\\nsecret"))."""
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def feishu_signature(timestamp: str, secret: str) -> str:
    """Feishu's documented signature: base64(HMAC-SHA256(key="timestamp\\nsecret", b""))."""
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


# -- mail ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One message the mail server took."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        """The message, parsed with the modern API."""
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class MailHandler:
    """aiosmtpd's handler: records messages; refuses what it is told to."""

    refuse_rcpt: dict[str, str] = field(default_factory=dict)  # address → reply
    refuse_data: str | None = None  # a reply such as "554 5.7.1 rejected"
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        """Refuse the listed addresses, take the others."""
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Record the message (or refuse it)."""
        if self.refuse_data is not None:
            return self.refuse_data
        self.received.append(
            Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content))
        )
        return f"250 2.0.0 Ok: queued as Q{len(self.received)}"


def free_port() -> int:
    """A port nothing listens on (for now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def server_tls() -> ssl.SSLContext:
    """The server side of the test certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(CERT, KEY)
    return context


class MailServer:
    """An SMTP server on 127.0.0.1: plain, STARTTLS (required) or SSL; optional login."""

    def __init__(self, security: str = "none", login: tuple[str, str] | None = None) -> None:
        # aiosmtpd only where the email tests run.
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.handler = MailHandler()
        self.port = free_port()
        self.security = security
        options: dict[str, Any] = {}
        if login is not None:

            def authenticate(
                server: Any, session: Any, envelope: Any, mechanism: str, data: Any
            ) -> AuthResult:
                user = data.login.decode()
                self.handler.logins.append(user)
                good = (user, data.password.decode()) == login
                return AuthResult(success=good, handled=False)

            # aiosmtpd sees STARTTLS but not a connection that began in TLS (ssl): there,
            # and on a plain server, it must offer AUTH without it.
            options.update(authenticator=authenticate, auth_require_tls=security == "starttls")
        if security == "starttls":
            options.update(tls_context=server_tls(), require_starttls=True)
        if security == "ssl":
            options.update(ssl_context=server_tls())
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, loop=asyncio.new_event_loop(),
            **options,
        )  # fmt: skip
        self.controller.start()

    def stop(self) -> None:
        """Stop serving and close the loop (once; a stopped server stays stopped)."""
        if not self.controller.loop.is_closed():
            self.controller.stop()
            self.controller.loop.close()

    @property
    def env(self) -> dict[str, str]:
        """The settings that point xunshi at this server."""
        env = {
            "XUNSHI_SMTP_HOST": "127.0.0.1",
            "XUNSHI_SMTP_PORT": str(self.port),
            "XUNSHI_SMTP_SECURITY": self.security,
            "XUNSHI_SMTP_FROM": "巡视办 <duban@xunshi.example.org>",
        }
        if self.security != "none":
            env["XUNSHI_SMTP_CAFILE"] = str(CERT)
        return env
