"""Request ids: what makes a state-changing command safe to run again.

Every command that changes state runs under a `Request`: an id (made per invocation, or
given with `--request-id`; the desk sends one per form) and the command it names. Each
write transaction of the command (its *steps*, counted in order) stores a row keyed by
(id, step) in the same transaction as its writes, and every event it appends carries the
id. So a command retried after its connection was lost at commit finds its own row and
reports what it did instead of doing it twice, and the history says which events one
command wrote. The storage layer reads the current request from a context variable: front
ends set it once per invocation (`using`), nothing passes it through every service.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from xunshi.errors import BadInput, XunshiError

# Letters, digits and `._:-`, up to 64: a UUID, a script's own key (`import-2025-R1-07`).
_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_CURRENT: ContextVar[Request | None] = ContextVar("xunshi_request", default=None)


@dataclass(slots=True)
class Request:
    """One invocation of a state-changing command: its id, what it is, its steps so far."""

    id: str
    command: str
    steps: int = field(default=0)

    def next_step(self) -> int:
        """The number of the write transaction about to run (1 for the first)."""
        self.steps += 1
        return self.steps


class AlreadyDone(XunshiError):
    """This request was already carried out; nothing was written now."""

    def __init__(self, request_id: str, command: str) -> None:
        super().__init__(f"request {request_id} was already carried out; nothing was written now")
        self.request_id = request_id
        self.command = command


def new_request_id() -> str:
    """A fresh request id (a random UUID, 32 hex digits)."""
    return uuid.uuid4().hex


def checked_request_id(value: str) -> str:
    """`value` if it can be a request id, else BadInput naming what is allowed."""
    if not _ID.fullmatch(value):
        raise BadInput(
            f"request id {value!r} is not valid: use 1 to 64 letters, digits, '.', '_', ':' or '-'"
        )
    return value


def current() -> Request | None:
    """The request the running command belongs to, if any."""
    return _CURRENT.get()


def current_id() -> str | None:
    """The running request's id, if any (what an appended event carries)."""
    request = _CURRENT.get()
    return None if request is None else request.id


@contextmanager
def using(request: Request | None) -> Iterator[Request | None]:
    """Run the block as `request` (None: as no request, e.g. a daemon's own work)."""
    token = _CURRENT.set(request)
    try:
        yield request
    finally:
        _CURRENT.reset(token)
