"""Delivering the outbox: each escalation's notification, at least once, on every channel.

Channels are declared in settings: `log` (the scheduler's log; the default), `file` (JSON
lines appended to a file), `webhook` (HTTP POST of JSON with an `Idempotency-Key` header),
the group robots `wecom`, `dingtalk` and `feishu` (`workflow/robots.py`) and `email`
(`workflow/mail.py`). Each outbox row is one notification on one channel under one
idempotency key, delivered once: robots and mail servers do not de-duplicate, so the key
stays in the outbox and a delivered row is never sent again (at least once still: an answer
lost on the way back makes the attempt count as failed). Delivery runs after, and apart
from, the escalation's own transaction: a channel that is down delays its notifications
(retries with exponential backoff) and finally gives up with the reason recorded, but never
loses or rolls back the escalation itself.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, or_

from xunshi.storage import queries as q
from xunshi.storage.db import Database
from xunshi.workflow.clock import Clock
from xunshi.workflow.lease import Lease

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(seconds=120)


class DeliveryFailed(Exception):
    """A channel could not deliver; the message says why."""


class Channel(Protocol):
    """Somewhere notifications go."""

    name: str
    target: str  # where, as people configured it (a path, a URL; empty for the log)

    def send(self, payload: Mapping[str, Any], key: str) -> str:
        """Deliver one notification and say how it was answered, or raise DeliveryFailed."""
        ...


class LogChannel:
    """Notifications written to the log (what `scheduler run` prints)."""

    name = "log"
    target = ""

    def send(self, payload: Mapping[str, Any], key: str) -> str:
        """Log one line."""
        log.info(
            "escalation %s: %s %s level %s %s → %s (due %s)",
            payload["escalation"],
            payload["subject"],
            payload["stage"],
            payload["level"],
            payload["title"],
            ", ".join(payload["notify"]),
            payload["due_on"],
        )
        return "logged"


class FileChannel:
    """Notifications appended as JSON lines to a file (one line per delivery attempt)."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.target = str(path)

    def send(self, payload: Mapping[str, Any], key: str) -> str:
        """Append and fsync one line."""
        line = json.dumps({"idempotency_key": key, **payload}, ensure_ascii=False)
        try:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise DeliveryFailed(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        return f"appended to {self.path}"


class WebhookChannel:
    """Notifications POSTed as JSON; the receiver de-duplicates by `Idempotency-Key`."""

    name = "webhook"

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.target = url
        self.timeout = timeout

    def send(self, payload: Mapping[str, Any], key: str) -> str:
        """POST once; anything but 2xx is a failure."""
        body = json.dumps(payload, ensure_ascii=False).encode()
        status, _answer = post_json(
            self.url, body, {"Idempotency-Key": key}, self.timeout, shown=self.url
        )
        return f"HTTP {status}"


def post_json(
    url: str, body: bytes, headers: Mapping[str, str], timeout: float, *, shown: str
) -> tuple[int, bytes]:
    """POST a JSON body; the status and the answer's body when 2xx, else DeliveryFailed.

    `shown` is how a failure names the URL (a robot's URL carries its token: it is hidden).
    """
    # The HTTP client only when a webhook or robot is used (start-up time).
    import http.client
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, answer = response.status, response.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailed(f"cannot reach {shown}: {reason}") from exc
    except ValueError as exc:  # a URL urllib cannot use (settings check http(s) only)
        raise DeliveryFailed(f"cannot use {shown}: {exc}") from exc
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status}")
    return status, answer


@dataclass(frozen=True, slots=True)
class Undelivered:
    """Notifications one channel could not deliver in a pass, and the last reason why."""

    channel: str
    target: str
    count: int
    reason: str

    def warning(self) -> str:
        """One line for people: `warning: 3 notifications not delivered to file …: …`."""
        return f"warning: {self.describe()}"

    def describe(self) -> str:
        """`3 notifications not delivered to file …: …` (the log adds its own level)."""
        what = "notification" if self.count == 1 else "notifications"
        # The reason usually names the file or URL already; it is not said twice.
        named = not self.target or self.target in self.reason
        where = self.channel if named else f"{self.channel} {self.target}"
        return f"{self.count} {what} not delivered to {where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What one delivery pass did."""

    delivered: int
    retrying: int
    failed: int
    undelivered: tuple[Undelivered, ...] = ()


class Deliverer:
    """Delivers due outbox rows on their channels."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        channels: Mapping[str, Channel],
        *,
        worker: str,
        max_attempts: int,
        backoff: timedelta,
        lease: timedelta = DEFAULT_LEASE,
        batch: int = 200,
    ) -> None:
        self.db = db
        self.clock = clock
        self.channels = dict(channels)
        self.worker = worker
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.lease = Lease(db, q.outbox, worker=worker, duration=lease, batch=batch)

    def deliver(self, *, stop: Callable[[], bool] = lambda: False) -> DeliveryResult:
        """One pass over the outbox rows that are due now."""
        now = self.clock.now()
        delivered = retrying = failed = 0
        missed: dict[str, tuple[int, str]] = {}
        for row in self._claim(now):
            if stop():
                self._release(row["id"])
                continue
            outcome, reason = self._deliver_one(row, now)
            delivered += outcome == "delivered"
            retrying += outcome == "retrying"
            failed += outcome == "failed"
            if outcome != "delivered":
                missed[row["channel"]] = (missed.get(row["channel"], (0, ""))[0] + 1, reason)
        undelivered = tuple(
            Undelivered(name, self._target(name), count, reason)
            for name, (count, reason) in sorted(missed.items())
        )
        return DeliveryResult(delivered, retrying, failed, undelivered)

    def _target(self, name: str) -> str:
        channel = self.channels.get(name)
        return "" if channel is None else channel.target

    def _claim(self, now: datetime) -> list[Mapping[str, Any]]:
        o = q.outbox
        rows = self.lease.claim(
            now,
            due=[
                o.c.status == "pending",
                o.c.next_attempt_at <= now,
                or_(o.c.locked_until.is_(None), o.c.locked_until < now),
            ],
            order_by=[o.c.next_attempt_at, o.c.id],
            returning=[o.c.id, o.c.channel, o.c.idempotency_key, o.c.payload, o.c.attempts],
        )
        return sorted(rows, key=lambda r: r["id"])

    def _deliver_one(self, row: Mapping[str, Any], now: datetime) -> tuple[str, str]:
        """`delivered`, `retrying` or `failed`, and the reason when not delivered."""
        attempts = row["attempts"] + 1
        channel = self.channels.get(row["channel"])
        try:
            if channel is None:
                raise DeliveryFailed(f"channel {row['channel']} is not configured")
            try:
                channel.send(json.loads(row["payload"]), row["idempotency_key"])
            except DeliveryFailed:
                raise
            except Exception as exc:  # a channel's own fault never fails the sweep either
                raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        except DeliveryFailed as exc:
            give_up = channel is None or attempts >= self.max_attempts
            values: dict[str, Any] = {"attempts": attempts, "locked_by": None, "locked_until": None}
            if give_up:
                tries = "attempt" if attempts == 1 else "attempts"
                values.update(
                    status="failed", last_error=f"gave up after {attempts} {tries}: {exc}"
                )
            else:
                delay = self.backoff * (2 ** (attempts - 1))
                values.update(last_error=str(exc), next_attempt_at=now + delay)
            self._update(row["id"], values)
            log.info("outbox %s on %s: %s", row["id"], row["channel"], values.get("last_error"))
            return ("failed" if give_up else "retrying"), str(exc)
        self._update(
            row["id"],
            {
                "status": "delivered",
                "attempts": attempts,
                "delivered_at": self.clock.now(),
                "locked_by": None,
                "locked_until": None,
                "last_error": None,
            },
        )
        return "delivered", ""

    def _update(self, outbox_id: int, values: Mapping[str, Any]) -> None:
        def work(conn: Connection) -> None:
            self.lease.finish(conn, outbox_id, values)

        self.db.run(work, immediate=True)

    def _release(self, outbox_id: int) -> None:
        self.lease.release([outbox_id])
