"""The email channel: one message per escalation over SMTP, to the notified roles' addresses.

Each message has a plain-text part and a simple HTML alternative (`messages.py`), and a
`Message-ID` derived from the outbox's idempotency key (`<KEY@sender's domain>`): every
attempt of one notification carries the same id, so a mail system that de-duplicates by it
can. The server's refusal (a login refused, a sender or every recipient refused, a message
refused) is a failed attempt with the server's code and text as its reason, retried and
given up like any channel's. A message some recipients refused but others took is delivered:
sending it again would repeat it to those who have it; the refused ones are logged.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from xunshi.config import Smtp
from xunshi.workflow.messages import Message, escalation_message
from xunshi.workflow.notify import DeliveryFailed

log = logging.getLogger(__name__)

# CRLF line ends and 7-bit transfer encodings: a server without 8BITMIME takes it as it is.
SMTP_POLICY = policy.SMTP.clone(cte_type="7bit")


class EmailChannel:
    """Notifications mailed through one SMTP server."""

    name = "email"

    def __init__(
        self,
        smtp: Smtp,
        *,
        timeout: float,
        now: Callable[[], datetime],
        tz: ZoneInfo,
        desk_url: str | None = None,
    ) -> None:
        self.smtp = smtp
        self.timeout = timeout
        self.now = now
        self.tz = tz
        self.desk_url = desk_url
        self.target = f"{smtp.host}:{smtp.port}"

    def send(self, payload: Mapping[str, Any], key: str) -> str:
        """Mail the escalation's message to the addresses routed to it (`payload["to"]`)."""
        to = list(payload.get("to") or ())
        if not to:
            raise DeliveryFailed("no email addresses are routed to this notification")
        return self.send_message(escalation_message(payload, self.desk_url), key, to)

    def send_message(self, message: Message, key: str, to: Sequence[str]) -> str:
        """Mail one message now; the server's answer (`250 …`), or DeliveryFailed."""
        date = self.now().astimezone(self.tz)
        mail = compose(message, key=key, sender=self.smtp.sender, to=to, date=date)
        try:
            return self._transmit(mail, to)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryFailed(f"SMTP login refused: {_reply(exc)}") from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryFailed(f"{self.target} does not offer STARTTLS") from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise DeliveryFailed(f"{self.target} closed the connection: {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"SMTP {_reply(exc)}") from exc
        except smtplib.SMTPException as exc:
            raise DeliveryFailed(f"SMTP error: {exc}") from exc
        except ssl.SSLError as exc:
            raise DeliveryFailed(f"TLS with {self.target} failed: {exc.reason or exc}") from exc
        except OSError as exc:
            raise DeliveryFailed(f"cannot reach {self.target}: {exc.strerror or exc}") from exc

    def _transmit(self, mail: EmailMessage, to: Sequence[str]) -> str:
        s = self.smtp
        context = None if s.security == "none" else ssl.create_default_context(cafile=s.cafile)
        client: smtplib.SMTP
        if s.security == "ssl":
            client = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
        with client:
            if s.security == "starttls":
                client.starttls(context=context)
            if s.user is not None and s.password is not None:
                client.login(s.user, s.password)
            return _deliver(client, mail, parseaddr(s.sender)[1], to)


def _deliver(client: smtplib.SMTP, mail: EmailMessage, sender: str, to: Sequence[str]) -> str:
    """MAIL, RCPT for each address, DATA: the server's last answer, noting refused ones."""
    client.ehlo_or_helo_if_needed()
    code, reply = client.mail(sender)
    if code != 250:
        client.rset()
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for address in to:
        code, reply = client.rcpt(address)
        if code not in (250, 251):
            refused[address] = (code, reply)
    if len(refused) == len(to):
        client.rset()
        raise DeliveryFailed("every recipient refused: " + _refusals(refused))
    code, reply = client.data(mail.as_bytes(policy=SMTP_POLICY))
    if code != 250:
        client.rset()
        raise smtplib.SMTPDataError(code, reply)
    answer = f"{code} {_text(reply)}"
    if refused:
        log.warning("email %s: refused %s", mail["Message-ID"], _refusals(refused))
        answer += f" (refused: {_refusals(refused)})"
    return answer


def compose(
    message: Message, *, key: str, sender: str, to: Sequence[str], date: datetime
) -> EmailMessage:
    """The email: headline as subject, text and HTML parts, Message-ID from the key."""
    mail = EmailMessage(policy=SMTP_POLICY)
    mail["Subject"] = message.title
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Date"] = format_datetime(date)
    mail["Message-ID"] = message_id(key, sender)
    mail.set_content(message.text())
    mail.add_alternative(message.html(), subtype="html")
    return mail


def message_id(key: str, sender: str) -> str:
    """`<KEY@domain>`, the domain the sender's: the same for every attempt of one key."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "xunshi"
    return f"<{key}@{domain}>"


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_text(exc.smtp_error)}"


def _refusals(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{a}: {code} {_text(reply)}" for a, (code, reply) in refused.items())


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", errors="replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())
