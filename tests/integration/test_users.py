"""Users of the web desk on both backends: scopes, password hashes, tokens, sign-in locks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from worlds import GROUP, ROUND, World

from xunshi.bootstrap import App
from xunshi.errors import AlreadyExists, BadInput, NotFound, Refused
from xunshi.services.users import LOCK_AFTER, password_matches, token_hash
from xunshi.storage import tables
from xunshi.workflow.clock import ManualClock

PASSWORD = "correct horse battery"


def stored(app: App, table: str, column: str) -> list[object]:
    """One column of a table, as the database holds it."""
    t = tables.metadata.tables[table]
    with app.db.connect() as conn:
        return list(conn.execute(select(t.c[column])).scalars())


def test_a_user_is_stored_with_a_scrypt_hash_and_their_scope(world: World, app: App) -> None:
    world.case("U01")
    users = app.services.users
    users.add("王组长", "group_leader", PASSWORD, group=f"{ROUND}/{GROUP}", unit=None)
    users.add("赵联络员", "unit_liaison", PASSWORD, group=None, unit="u01")

    shown = app.services.read.users.many()

    assert [(u.name, u.role, u.group_key, u.unit) for u in shown] == [
        ("王组长", "group_leader", f"{ROUND}/{GROUP}", None),
        ("赵联络员", "unit_liaison", None, "U01"),
    ]
    hashes = stored(app, "web_user", "password_hash")
    assert all(str(h).startswith("scrypt$16384$8$1$") for h in hashes)
    assert PASSWORD not in "".join(map(str, hashes))
    assert hashes[0] != hashes[1]  # a salt each
    assert all(password_matches(PASSWORD, str(h)) for h in hashes)
    assert not password_matches(PASSWORD + "x", str(hashes[0]))


@pytest.mark.parametrize(
    ("role", "group", "unit", "error", "message"),
    [
        ("boss", None, None, BadInput, "role 'boss' is not known"),
        ("group_leader", None, None, BadInput, "a group_leader needs --group ROUND/G"),
        ("unit_liaison", None, None, BadInput, "a unit_liaison needs --unit U"),
        ("party_secretary", None, None, BadInput, "a party_secretary needs --unit U"),
        ("office", "2024-R1/G1", None, BadInput, "--group is only for group_leader"),
        ("office", None, "U01", BadInput, "--unit is only for unit_liaison"),
        ("group_leader", "2024-R1/G9", None, NotFound, "group G9 does not exist"),
        ("group_leader", "G1", None, BadInput, "write ROUND/G"),
        ("group_leader", "2099-R9/G1", None, NotFound, "round 2099-R9 does not exist"),
        ("unit_liaison", None, "U99", NotFound, "unit U99 does not exist"),
    ],
)
def test_a_user_outside_the_roles_or_scopes_is_refused(
    world: World,
    app: App,
    role: str,
    group: str | None,
    unit: str | None,
    error: type[Exception],
    message: str,
) -> None:
    world.case("U01")
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        app.services.users.add("某人", role, PASSWORD, group=group, unit=unit)
    assert app.services.read.users.many() == []


def test_a_short_password_and_a_duplicate_name_are_refused(app: App) -> None:
    users = app.services.users
    with pytest.raises(BadInput, match="at least 10 characters"):
        users.add("李明", "office", "short", group=None, unit=None)
    users.add("李明", "office", PASSWORD, group=None, unit=None)
    with pytest.raises(AlreadyExists, match="user 李明 already exists"):
        users.add("李明", "leading_group", PASSWORD, group=None, unit=None)


def test_a_token_is_kept_as_its_hash_and_finds_its_user_until_disabled(app: App) -> None:
    users = app.services.users
    users.add("李明", "office", PASSWORD, group=None, unit=None)
    made = users.new_token("李明")

    assert stored(app, "api_token", "token_hash") == [token_hash(made.token)]
    found = users.by_token(made.token)
    assert found is not None and found.name == "李明"
    assert users.by_token(made.token + "x") is None

    users.disable("李明")
    assert users.by_token(made.token) is None
    with pytest.raises(Refused, match="already disabled"):
        users.disable("李明")
    with pytest.raises(NotFound, match="user 某人 does not exist"):
        users.new_token("某人")


def test_five_failed_sign_ins_lock_the_name_for_fifteen_minutes(
    app: App, clock: ManualClock
) -> None:
    users = app.services.users
    users.add("李明", "office", PASSWORD, group=None, unit=None)
    for _ in range(LOCK_AFTER):
        with pytest.raises(Refused, match="wrong name or password"):
            users.sign_in("李明", "wrong password")

    with pytest.raises(Refused, match="李明 is locked until"):
        users.sign_in("李明", PASSWORD)
    clock.advance(timedelta(minutes=14))
    with pytest.raises(Refused, match="is locked until"):
        users.sign_in("李明", PASSWORD)
    clock.advance(timedelta(minutes=1, seconds=1))
    assert users.sign_in("李明", PASSWORD).name == "李明"
    assert stored(app, "web_user", "failed_logins") == [0]


def test_a_success_resets_the_count_and_a_disabled_user_cannot_sign_in(app: App) -> None:
    users = app.services.users
    users.add("李明", "office", PASSWORD, group=None, unit=None)
    for _ in range(LOCK_AFTER - 1):
        with pytest.raises(Refused):
            users.sign_in("李明", "wrong password")
    users.sign_in("李明", PASSWORD)
    with pytest.raises(Refused, match="wrong name or password"):
        users.sign_in("李明", "wrong password")
    assert users.sign_in("李明", PASSWORD).role == "office"  # not locked: the count restarted

    with pytest.raises(Refused, match="wrong name or password"):
        users.sign_in("无此人", PASSWORD)
    users.disable("李明")
    with pytest.raises(Refused, match="user 李明 is disabled"):
        users.sign_in("李明", PASSWORD)


def test_the_session_secret_is_made_once_and_shared(app: App) -> None:
    first = app.services.users.session_secret()
    assert app.services.users.session_secret() == first
    assert len(first) >= 48
