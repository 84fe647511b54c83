"""A 回头看 case follows the unit's earlier case (#9.3): `case start --follows`. Both backends."""

from __future__ import annotations

from datetime import date

import pytest
from worlds import World

from xunshi.bootstrap import App
from xunshi.errors import NotFound, Refused


@pytest.fixture
def later(app: App, world: World) -> App:
    """Round 2024-R1's case of U01 and U02, and round 2025-R1 (group G1) a year later."""
    world.case("U01")
    world.case("U02")
    app.services.cases.create_round("2025-R1", "2025年第一轮巡视", date(2025, 3, 3))
    app.services.cases.add_group("2025-R1", "G1", "李组长")
    return app


def start(app: App, unit: str, follows: str) -> object:
    return app.services.cases.start_case(
        round_code="2025-R1",
        unit_code=unit,
        group_code="G1",
        definition="lookback",
        actor="巡视办",
        follows=follows,
    )


def test_a_lookback_case_follows_the_units_earlier_case(later: App) -> None:
    start(later, "U01", "2024-r1/u01")

    view = later.services.read.cases.one("2025-R1/U01")
    assert (str(view.follows), view.definition) == ("2024-R1/U01", "lookback")
    assert view.to_json(later.engine.tz)["follows"] == "2024-R1/U01"
    first = later.services.read.history.of("2025-R1/U01").events[0]
    assert first.data["follows"] == "2024-R1/U01"
    assert later.services.read.cases.one("2024-R1/U01").follows is None
    assert later.services.audit.verify().ok


@pytest.mark.parametrize(
    ("unit", "follows", "message"),
    [
        ("U01", "2024-R1/U02", "case 2025-R1/U01 cannot follow case 2024-R1/U02: it inspected "
         "another unit"),
        ("U01", "2024-R9/U01", "case 2024-R9/U01 does not exist"),
    ],
)  # fmt: skip
def test_a_case_follows_only_its_own_units_earlier_case(
    later: App, unit: str, follows: str, message: str
) -> None:
    with pytest.raises((Refused, NotFound)) as refused:
        start(later, unit, follows)
    assert refused.value.message == message
    assert [v.key.round for v in later.services.read.cases.many()] == ["2024-R1", "2024-R1"]


def test_a_case_cannot_follow_one_of_a_round_not_earlier(later: App, world: World) -> None:
    start(later, "U01", "2024-R1/U01")
    later.services.cases.create_round("2025-R2", "2025年第二轮巡视", date(2025, 3, 3))
    later.services.cases.add_group("2025-R2", "G1", "李组长")
    with pytest.raises(Refused) as refused:
        later.services.cases.start_case(
            round_code="2025-R2", unit_code="U01", group_code="G1", definition="lookback",
            actor="巡视办", follows="2025-R1/U01",
        )  # fmt: skip
    assert refused.value.message == (
        "case 2025-R2/U01 cannot follow case 2025-R1/U01: its round did not start before "
        "round 2025-R2 (2025-03-03)"
    )
