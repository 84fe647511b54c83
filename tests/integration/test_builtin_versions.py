"""Cases started on the old built-ins keep running on their versions (#9).

The database written by xunshi 0.1 (tests/fixtures/v1) has cases of the first built-in
versions: `mobilization` and `communication` stages, `unit_liaison` recording the
rectification milestones, three-party acceptance. After `db upgrade` and `init` the new
built-ins are the versions new cases start on; the old cases finish on theirs.
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "v1"


@pytest.fixture
def upgraded(tmp_path: Path) -> Iterator[App]:
    """The release's database, upgraded, with this version's built-ins registered."""
    path = tmp_path / "demo.db"
    with gzip.open(FIXTURE / "demo.db.gz") as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    app = bootstrap(Settings(db_url=f"sqlite:///{path}", actor="tester"))
    app.services.definitions.init("巡视办")
    yield app
    app.db.dispose()


def test_old_cases_keep_their_versions_and_new_cases_take_the_new_ones(upgraded: App) -> None:
    cases, catalog = upgraded.services.cases, upgraded.services.read.catalog
    latest = {d.name: d.version for d in catalog.definitions()}
    assert latest["regular"] == 2 and latest["rectification"] == 2

    # 2024-R2/U03 started on regular v1: its feedback stage and its triggers are v1's.
    old = upgraded.services.read.cases.one("2024-R2/U03")
    assert (old.definition_version, old.state) == (1, "feedback")
    for milestone in ("feedback_meeting", "individual_feedback"):
        cases.record_milestone("2024-R2/U03", milestone, actor="巡视办", role="office")
    moved = cases.fire("2024-R2/U03", "start_rectification", actor="巡视办", role="office")
    assert (moved.instance.state, moved.instance.definition_version) == ("rectification", 1)
    # v1 lets the liaison record the unit's reports; v2 gives them to the party secretary.
    cases.record_milestone("2024-R2/U03", "three_lists", actor="联络员", role="unit_liaison")

    # A new case in the same round runs the new order from the start.
    cases.add_unit("U99", "示例市新单位")
    started = cases.start_case(
        round_code="2024-R2", unit_code="U99", group_code=old.group, definition="regular",
        actor="巡视办",
    )  # fmt: skip
    fresh = upgraded.services.read.cases.one("2024-R2/U99")
    assert (fresh.definition_version, fresh.state) == (2, "preparation")
    assert started.key.unit == "U99"
    for milestone in ("briefings_received", "training_done"):
        cases.record_milestone("2024-R2/U99", milestone, actor="组长", role="group_leader")
    moved = cases.fire("2024-R2/U99", "move_in", actor="组长", role="group_leader")
    assert moved.instance.state == "onsite"  # the 动员会 is the move-in: no 动员部署 stage
    assert upgraded.services.audit.verify().ok
