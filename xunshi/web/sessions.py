"""Sessions in a signed cookie, and the CSRF token every form carries.

The cookie holds the user's id and the session's CSRF token, signed with itsdangerous and
timestamped by the desk's clock: after 8 hours it is refused and the user signs in again.
It is HttpOnly and SameSite=Lax; every POST must send back the session's CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

COOKIE = "xunshi_session"
LIFETIME = timedelta(hours=8)


@dataclass(frozen=True, slots=True)
class Session:
    """What the cookie says: who signed in (None: nobody) and the CSRF token of the session."""

    user_id: int | None
    csrf: str
    expired: bool = False  # the cookie was valid but too old

    def csrf_matches(self, sent: str | None) -> bool:
        """Whether a form sent this session's CSRF token (in constant time)."""
        return bool(sent) and hmac.compare_digest(str(sent).encode(), self.csrf.encode())


def anonymous(*, expired: bool = False) -> Session:
    """A session nobody has signed in to, with a new CSRF token (for the sign-in form)."""
    return Session(None, secrets.token_urlsafe(32), expired)


class Sessions:
    """Signs and reads session cookies on the desk's clock."""

    def __init__(self, secret: str, now: Callable[[], datetime]) -> None:
        class ClockSigner(TimestampSigner):
            """Timestamps from the desk's clock (a virtual one in tests and the demo)."""

            def get_timestamp(self) -> int:
                return int(now().timestamp())

        self._serializer = URLSafeTimedSerializer(secret, salt="xunshi-session", signer=ClockSigner)

    def dump(self, session: Session) -> str:
        """The cookie's value."""
        return self._serializer.dumps({"u": session.user_id, "c": session.csrf})

    def load(self, raw: str | None) -> Session:
        """The session a cookie holds; a new anonymous one if it holds none."""
        if not raw:
            return anonymous()
        try:
            data: Any = self._serializer.loads(raw, max_age=int(LIFETIME.total_seconds()))
        except SignatureExpired:
            return anonymous(expired=True)
        except BadSignature:
            return anonymous()
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return anonymous()
        user_id = data.get("u")
        return Session(user_id if isinstance(user_id, int) else None, data["c"])
