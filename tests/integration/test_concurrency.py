"""Two OS processes, one case, the same moment: exactly one wins (DESIGN §4 step 3, §8).

Each round builds a fresh case in `leading_group_hearing` (领导小组听取汇报) with its milestone
recorded (version 13), from where both `send_back` (补充巡视, back to onsite) and
`to_party_group` (on to party_hearing) are allowed to the office. Two child processes fire
one each. So that they really overlap, each child wraps `Engine.load`: after reading the row
it waits on a file barrier until the other has read it too — both hold version 13 before
either writes. One must succeed; the other must exit 1 with the conflict message; the history
must stay contiguous.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from worlds import ROUND, World

from xunshi.bootstrap import App

ROUNDS = 15
STAGE = "leading_group_hearing"
TRIGGERS = {"send_back": "onsite", "to_party_group": "party_hearing"}
# started, 2 preparation milestones, move_in, 4 onsite milestones, leave_site, report (drafting
# requires none), 1 office_review milestone, approve_report, 1 leading_group_hearing milestone.
VERSION = 13

CHILD = textwrap.dedent(
    """\
    import sys
    import time
    from pathlib import Path

    from xunshi.bootstrap import bootstrap
    from xunshi.config import Settings
    from xunshi.errors import XunshiError
    from xunshi.workflow.engine import Engine

    url, case, trigger, role, barrier, me = sys.argv[1:]
    original_load = Engine.load


    def load_then_wait(self, conn, ref, reads=None):
        # Read the row, then wait until the other writer has read it as well.
        row = original_load(self, conn, ref, reads)
        folder = Path(barrier)
        (folder / me).touch()
        give_up = time.monotonic() + 20
        while len(list(folder.iterdir())) < 2 and time.monotonic() < give_up:
            time.sleep(0.002)
        return row


    Engine.load = load_then_wait
    app = bootstrap(Settings(db_url=url, actor=me))
    try:
        outcome = app.services.cases.fire(case, trigger, actor=me, role=role)
    except XunshiError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        sys.exit(1)
    finally:
        app.db.dispose()
    print(f"{outcome.key.label}: {outcome.event.from_state} -> {outcome.instance.state}")
    """
)


@dataclass(frozen=True, slots=True)
class Finished:
    """How one child process ended."""

    trigger: str
    code: int
    out: str
    err: str


def child_env() -> dict[str, str]:
    """The environment without any XUNSHI_* setting of the developer's."""
    return {k: v for k, v in os.environ.items() if not k.startswith("XUNSHI_")}


def run_together(commands: dict[str, list[str]]) -> list[Finished]:
    """Start every command at once; wait for all of them."""
    env = child_env()
    started = {
        trigger: subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for trigger, argv in commands.items()
    }
    finished = []
    for trigger, process in started.items():
        out, err = process.communicate(timeout=60)
        finished.append(Finished(trigger, process.returncode, out, err))
    return finished


def hearing_case(world: World, unit: str) -> str:
    """A case in `leading_group_hearing` with its required milestone recorded (version 13);
    its key."""
    world.case(unit)
    key = f"{ROUND}/{unit}"
    world.drive_to(key, STAGE)
    world.milestones_of(key, STAGE)
    assert world.app.services.read.history.of(key).events[-1].seq == VERSION
    return key


def conflict_line(key: str) -> str:
    """What the losing writer prints."""
    return (
        f"Error: case {key} was changed by someone else at the same time (version {VERSION} is "
        "no longer current); nothing was written, try again\n"
    )


def assert_one_winner(app: App, key: str, finished: list[Finished]) -> Finished:
    """Exactly one exit 0; the history is 1..14 and ends with the winner's transition."""
    winners = [f for f in finished if f.code == 0]
    losers = [f for f in finished if f.code != 0]
    assert len(winners) == 1 and len(losers) == 1, finished
    winner = winners[0]
    history = list(app.services.read.history.of(key).events)
    assert [e.seq for e in history] == list(range(1, VERSION + 2))
    last = history[-1]
    assert (last.kind, last.trigger, last.from_state, last.to_state) == (
        "transition",
        winner.trigger,
        STAGE,
        TRIGGERS[winner.trigger],
    )
    assert history[-2].hash == last.prev_hash
    view = app.services.read.cases.one(key)
    assert (view.state, view.version) == (TRIGGERS[winner.trigger], VERSION + 1)
    return losers[0]


@pytest.mark.slow
def test_two_processes_firing_at_once_exactly_one_wins(
    app: App, world: World, db_url: str, tmp_path: Path
) -> None:
    script = tmp_path / "fire_after_barrier.py"
    script.write_text(CHILD, encoding="utf-8")
    wins = dict.fromkeys(TRIGGERS, 0)
    for n in range(1, ROUNDS + 1):
        key = hearing_case(world, f"U{n:02d}")
        barrier = tmp_path / f"barrier-{n}"
        barrier.mkdir()
        finished = run_together(
            {
                trigger: [
                    sys.executable,
                    str(script),
                    db_url,
                    key,
                    trigger,
                    "office",
                    str(barrier),
                    f"writer-{trigger}",
                ]
                for trigger in TRIGGERS
            }
        )
        assert sorted(p.name for p in barrier.iterdir()) == [
            "writer-send_back",
            "writer-to_party_group",
        ]
        loser = assert_one_winner(app, key, finished)
        assert (loser.code, loser.out, loser.err) == (1, "", conflict_line(key)), finished
        winner = next(f for f in finished if f.code == 0)
        assert winner.out == f"case {key}: {STAGE} -> {TRIGGERS[winner.trigger]}\n"
        assert winner.err == ""
        wins[winner.trigger] += 1
    assert sum(wins.values()) == ROUNDS
    report = app.services.audit.verify()
    assert (report.ok, report.chains, report.events) == (True, ROUNDS, ROUNDS * (VERSION + 1))


@pytest.mark.slow
def test_two_cli_processes_on_one_case_exactly_one_wins(
    app: App, world: World, db_url: str
) -> None:
    key = hearing_case(world, "U01")
    finished = run_together(
        {
            trigger: [
                sys.executable,
                "-m",
                "xunshi",
                "--db",
                db_url,
                "case",
                "fire",
                key,
                trigger,
                "--actor",
                f"writer-{trigger}",
                "--role",
                "office",
            ]
            for trigger in TRIGGERS
        }
    )
    loser = assert_one_winner(app, key, finished)
    winner = next(f for f in finished if f.code == 0)
    new_state = {"onsite": "现场巡视 (onsite)", "party_hearing": "党组听取汇报 (party_hearing)"}[
        TRIGGERS[winner.trigger]
    ]
    possible = {"onsite": "leave_site", "party_hearing": "give_feedback"}[TRIGGERS[winner.trigger]]
    refusal = (
        f"Error: case {key} cannot {loser.trigger} from {new_state}; possible now: {possible}\n"
    )
    assert loser.code == 1
    assert loser.out == ""
    assert loser.err in (conflict_line(key), refusal), finished
    assert app.services.audit.verify().ok
