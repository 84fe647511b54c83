"""The project's exceptions: one root, subclasses that carry data.

The CLI catches `XunshiError` once and prints `Error: <message>`; anything else is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence


class XunshiError(Exception):
    """Something went wrong."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__)

    @property
    def message(self) -> str:
        """The one line a user sees."""
        return str(self.args[0])


class NotFound(XunshiError):
    """The thing asked for does not exist."""


class AlreadyExists(XunshiError):
    """The thing already exists."""


class BadInput(XunshiError):
    """The input is not valid."""


class Refused(XunshiError):
    """The command is not allowed in the current state; nothing was written."""


class Conflict(XunshiError):
    """Someone else changed the same record at the same time; nothing was written."""


class NotDelivered(XunshiError):
    """A channel did not deliver the message; the platform's reason says why."""


class InvalidDefinition(XunshiError):
    """The lifecycle definition is not valid."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{source} is not a valid definition ({count} {noun})")
        self.problems = list(problems)


class AuditFailed(XunshiError):
    """The audit check found problems."""


class StorageError(XunshiError):
    """The database could not be used."""
