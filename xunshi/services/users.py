"""The people of the web desk: adding and disabling users, API tokens, signing in.

A user acts with one role of the definitions and sees what their scope allows: a group
leader their group (`ROUND/G`), a unit liaison or party secretary their unit. Passwords are
kept as scrypt hashes (memory-hard, salted, parameters stored with the hash), tokens as their
SHA-256: neither is ever stored as given. Five failed sign-ins lock a name for 15 minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from xunshi.errors import AlreadyExists, BadInput, NotFound, Refused
from xunshi.read.users import UserView, find_user, user_by_id
from xunshi.storage import queries as q
from xunshi.storage.db import Database
from xunshi.texts import check_name
from xunshi.workflow.clock import Clock
from xunshi.workflow.resolve import find_group, find_unit, resolve_round

# The roles the built-in definitions declare (a test keeps the two equal).
ROLES = (
    "office",
    "leading_group",
    "group_leader",
    "party_secretary",
    "unit_liaison",
    "discipline_group",
    "organization_dept",
    "functional_dept",
)
GROUP_ROLES = ("group_leader",)
UNIT_ROLES = ("unit_liaison", "party_secretary")
MIN_PASSWORD = 10
MAX_PASSWORD = 1000
# scrypt's cost: 16 MiB and some 50 ms per hash, so that a stolen table is slow to guess.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES = 16
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
WRONG = "wrong name or password"


def hash_password(password: str) -> str:
    """`scrypt$N$R$P$SALT$HASH` (hex) of `password` with a new random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    """Whether `password` hashes to `stored` (in constant time)."""
    scheme, n, r, p, salt, digest = stored.split("$")
    if scheme != "scrypt":
        return False
    computed = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    return hmac.compare_digest(computed, bytes.fromhex(digest))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)


def token_hash(token: str) -> str:
    """What is stored of an API token: its SHA-256 (the token is random, so no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str) -> str:
    """A password long enough, without control characters."""
    if len(password) < MIN_PASSWORD:
        raise BadInput(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise BadInput(f"the password must have at most {MAX_PASSWORD} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        raise BadInput("the password must not contain control characters or line breaks")
    return password


# An existing user's hash for a name that does not exist: checking it takes as long.
_DUMMY_HASH = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${'00' * SALT_BYTES}${'00' * 32}"


@dataclass(frozen=True, slots=True)
class NewToken:
    """A new API token: shown once, only its hash is kept."""

    user: UserView
    token: str


class UserService:
    """Users of the web desk, their tokens and their sign-ins."""

    def __init__(self, db: Database, clock: Clock, tz: ZoneInfo) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz

    def add(
        self, name: str, role: str, password: str, *, group: str | None, unit: str | None
    ) -> UserView:
        """Add user NAME acting as ROLE, scoped to a group (ROUND/G) or a unit."""
        name = check_name("user name", name)
        if role not in ROLES:
            raise BadInput(f"role {role!r} is not known: use one of {', '.join(ROLES)}")
        if role in GROUP_ROLES and group is None:
            raise BadInput(f"a {role} needs --group ROUND/G: the group they lead")
        if role in UNIT_ROLES and unit is None:
            raise BadInput(f"a {role} needs --unit U: the unit they act for")
        if group is not None and role not in GROUP_ROLES:
            raise BadInput(f"--group is only for {', '.join(GROUP_ROLES)}, not {role}")
        if unit is not None and role not in UNIT_ROLES:
            raise BadInput(f"--unit is only for {', '.join(UNIT_ROLES)}, not {role}")
        hashed = hash_password(check_password(password))

        def work(conn: Connection) -> UserView:
            if find_user(conn, name) is not None:
                raise AlreadyExists(f"user {name} already exists")
            new_id = conn.execute(
                q.web_users.insert().returning(q.web_users.c.id),
                {
                    "name": name,
                    "role": role,
                    "group_id": None if group is None else _group_id(conn, group),
                    "unit_id": None if unit is None else _unit_id(conn, unit),
                    "password_hash": hashed,
                    "disabled": False,
                    "failed_logins": 0,
                    "locked_until": None,
                    "created_at": self.clock.now(),
                },
            ).scalar_one()
            return _by_id(conn, new_id)

        return self.db.run(work, immediate=True)

    def disable(self, name: str) -> UserView:
        """Disable user NAME: no more sign-ins, their tokens stop working."""

        def work(conn: Connection) -> UserView:
            user = _user(conn, name)
            if user.disabled:
                raise Refused(f"user {name} is already disabled")
            u = q.web_users
            conn.execute(u.update().where(u.c.id == user.id).values(disabled=True))
            return _by_id(conn, user.id)

        return self.db.run(work, immediate=True)

    def new_token(self, name: str) -> NewToken:
        """A new random API token for user NAME (only its hash is kept)."""
        token = secrets.token_urlsafe(32)

        def work(conn: Connection) -> NewToken:
            user = _user(conn, name)
            if user.disabled:
                raise Refused(f"user {name} is disabled: a disabled user gets no token")
            conn.execute(
                q.api_tokens.insert(),
                {
                    "user_id": user.id,
                    "token_hash": token_hash(token),
                    "created_at": self.clock.now(),
                },
            )
            return NewToken(user, token)

        return self.db.run(work, immediate=True)

    def by_token(self, token: str) -> UserView | None:
        """The enabled user an API token belongs to, or None."""
        t = q.api_tokens
        with self.db.transaction() as conn:
            user_id = conn.execute(
                select(t.c.user_id).where(t.c.token_hash == token_hash(token))
            ).scalar()
            user = None if user_id is None else user_by_id(conn, user_id)
        return None if user is None or user.disabled else user

    def by_id(self, user_id: int) -> UserView | None:
        """The enabled user with id `user_id` (a session's), or None."""
        with self.db.transaction() as conn:
            user = user_by_id(conn, user_id)
        return None if user is None or user.disabled else user

    def sign_in(self, name: str, password: str) -> UserView:
        """The user whose name and password these are; a failure is counted, and the
        fifth in a row locks the name for 15 minutes."""
        now = self.clock.now()
        try:
            name = check_name("user name", name)
        except BadInput:
            password_matches(password, _DUMMY_HASH)  # as slow as a real check
            raise Refused(WRONG) from None

        def work(conn: Connection) -> UserView | str:
            u = q.web_users
            row = conn.execute(select(u).where(u.c.name == name)).first()
            if row is None:
                password_matches(password, _DUMMY_HASH)  # as slow as a real check
                return WRONG
            if row.locked_until is not None and row.locked_until > now:
                until = row.locked_until.astimezone(self.tz)
                return f"too many failed sign-ins: {name} is locked until {until:%H:%M}"
            if not password_matches(password, row.password_hash):
                failures = row.failed_logins + 1
                locked = now + LOCK_FOR if failures >= LOCK_AFTER else None
                conn.execute(
                    u.update()
                    .where(u.c.id == row.id)
                    .values(failed_logins=0 if locked else failures, locked_until=locked)
                )
                return WRONG
            if row.disabled:
                return f"user {name} is disabled"
            conn.execute(
                u.update().where(u.c.id == row.id).values(failed_logins=0, locked_until=None)
            )
            return _by_id(conn, row.id)

        # The failure is counted in its own committed transaction, then refused.
        outcome = self.db.run(work, immediate=True)
        if isinstance(outcome, str):
            raise Refused(outcome)
        return outcome

    def session_secret(self) -> str:
        """The key that signs session cookies: made on first use, then shared."""
        s = q.web_secrets

        def work(conn: Connection) -> str:
            found = conn.execute(select(s.c.secret).order_by(s.c.id).limit(1)).scalar()
            if found is not None:
                return str(found)
            secret = secrets.token_urlsafe(48)
            conn.execute(s.insert(), {"secret": secret, "created_at": self.clock.now()})
            return secret

        return self.db.run(work, immediate=True)


def _user(conn: Connection, name: str) -> UserView:
    found = find_user(conn, name)
    if found is None:
        raise NotFound(f"user {name} does not exist")
    return found


def _by_id(conn: Connection, user_id: int) -> UserView:
    found = user_by_id(conn, user_id)
    assert found is not None
    return found


def _group_id(conn: Connection, key: str) -> int:
    round_code, slash, code = key.partition("/")
    if not slash or not round_code or not code:
        raise BadInput(f"group {key!r} is not valid: write ROUND/G, e.g. 2024-R1/G1")
    found = find_group(conn, resolve_round(conn, round_code), code)
    if found is None:
        raise NotFound(f"group {code} does not exist in round {round_code}")
    return int(found.id)


def _unit_id(conn: Connection, code: str) -> int:
    found = find_unit(conn, code)
    if found is None:
        raise NotFound(f"unit {code} does not exist")
    return int(found.id)
