"""整改评估: the office evaluates a case's rectification (`case evaluate`).

One transaction: the scores are checked against the case's definition (every declared
dimension, each within its weight, adding up to the total, the grade the total earns), the
`evaluated` event is appended, and a grade the definition calls poor either sends the case
back at once (`on_poor: rerectify`: the definition's `rerectify` transition, fired by the
same person, its reason saying which evaluation) or flags it for a 回头看 (`lookback`). A
second evaluation in the same stage corrects the first and needs a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, select

from xunshi.errors import BadInput, Refused
from xunshi.keys import InstanceKey, Reference, reference
from xunshi.services.lifecycle import change
from xunshi.services.results import Change
from xunshi.storage import queries as q
from xunshi.storage.db import Database
from xunshi.storage.prepared import Prepared
from xunshi.workflow.decide import Command
from xunshi.workflow.engine import Engine, ReadSet
from xunshi.workflow.evaluation import Scores, check_scores
from xunshi.workflow.resolve import InstanceRef, resolve_case


@dataclass(frozen=True, slots=True)
class Evaluated:
    """An evaluation recorded, and the move back to 集中整改 a poor grade made (if any)."""

    evaluation: Change
    scores: Scores
    sent_back: Change | None = None

    @property
    def key(self) -> InstanceKey:
        """The case evaluated."""
        return self.evaluation.key

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape: the case, the scores, the events."""
        return {
            "key": str(self.key),
            **self.scores.to_data(),
            "lookback": self.scores.lookback,
            "event": self.evaluation.to_json(tz),
            "sent_back": None if self.sent_back is None else self.sent_back.to_json(tz),
            "state": self.sent_back.instance.state if self.sent_back else None,
        }


def evaluate(
    db: Database,
    engine: Engine,
    case: str | Reference,
    *,
    score: int,
    grade: str,
    dimensions: Mapping[str, int],
    actor: str,
    role: str,
    reason: str | None = None,
    at: datetime | None = None,
) -> Evaluated:
    """Record the evaluation of a case's rectification (see the module's docstring)."""
    target = reference(case, "case")
    reads = ReadSet()

    def work(conn: Connection) -> Evaluated:
        ref = resolve_case(conn, target)
        row = ref.row
        assert row is not None
        defn = engine.registry.definition(conn, row["definition_name"], row["definition_version"])
        if defn.evaluation is None:
            raise Refused(
                f"{ref.label} cannot be evaluated: definition {defn.name} declares no "
                "整改评估 (evaluation)"
            )
        scores = check_scores(defn.evaluation, score, grade, dimensions)
        if not (reason or "").strip() and _evaluated_in_stage(conn, ref.id, row["stage_seq"]):
            raise BadInput(
                f"{ref.label} was evaluated in this stage already: a new evaluation corrects "
                "it; give --reason"
            )
        command = Command("evaluate", actor, role, None, reason, at, scores.to_data())
        outcome = engine.execute(conn, ref, command, reads)
        evaluated = change(ref, outcome)
        if not (scores.poor and scores.on_poor == "rerectify"):
            return Evaluated(evaluated, scores)
        why = f"整改评估为{scores.grade}（{scores.score}分），二次整改"
        back = Command(
            "fire",
            actor,
            role,
            defn.evaluation.rerectify,
            why,
            outcome.event.occurred_at,
            {"evaluation": outcome.event.seq},
        )
        # The case as the evaluation left it (not the row read before it).
        again = InstanceRef(ref.id, ref.key)
        return Evaluated(evaluated, scores, change(again, engine.execute(conn, again, back)))

    return db.run(work)


_EVALUATED_SINCE = Prepared(
    select(q.events.c.seq)
    .where(
        q.events.c.instance_id == bindparam("case_id"),
        q.events.c.kind == "evaluated",
        q.events.c.seq > bindparam("stage_seq"),
    )
    .limit(1)
)


def _evaluated_in_stage(conn: Connection, case_id: int, stage_seq: int) -> bool:
    found = _EVALUATED_SINCE.first(conn, {"case_id": case_id, "stage_seq": stage_seq})
    return found is not None
