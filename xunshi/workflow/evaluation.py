"""整改评估: checking an evaluation against what the definition declares (pure).

An evaluation is scored by deduction from 100 over the definition's weighted dimensions and
graded by its bands: every declared dimension scored, each from 0 to its weight, the scores
adding up to the total, and the grade the one the total earns. A grade the definition lists
as poor fails: the case goes back to 集中整改 (二次整改) or is flagged for a 回头看, as the
definition says. The evaluation is an `evaluated` event in the case's history; its data is
`Scores.to_data()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xunshi.definitions.schema import Evaluation
from xunshi.errors import BadInput


@dataclass(frozen=True, slots=True)
class Scores:
    """A checked evaluation: the total, its grade, each dimension's score, and what a poor
    grade does (`on_poor`: rerectify or lookback; None when the grade passes)."""

    score: int
    grade: str
    dimensions: tuple[tuple[str, int], ...]
    poor: bool
    on_poor: str | None

    @property
    def lookback(self) -> bool:
        """Whether the case is flagged for a 回头看 in a later round."""
        return self.on_poor == "lookback"

    def to_data(self) -> dict[str, Any]:
        """The `evaluated` event's data."""
        return {
            "score": self.score,
            "grade": self.grade,
            # pairs, not an object: the event's canonical JSON sorts object keys, and the
            # dimensions read in the order the definition declares them
            "dimensions": [[name, value] for name, value in self.dimensions],
            "poor": self.poor,
            "on_poor": self.on_poor,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Scores:
        """The scores an `evaluated` event recorded."""
        return cls(
            score=int(data["score"]),
            grade=str(data["grade"]),
            dimensions=tuple((str(k), int(v)) for k, v in data["dimensions"]),
            poor=bool(data["poor"]),
            on_poor=data.get("on_poor"),
        )


def check_scores(
    evaluation: Evaluation, score: object, grade: object, dimensions: Mapping[str, object]
) -> Scores:
    """The evaluation as recorded, or BadInput naming what does not fit the declaration."""
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        raise BadInput("--score must be a whole number from 0 to 100")
    grades = [g for g, _ in evaluation.grades]
    if not isinstance(grade, str) or grade not in grades:
        raise BadInput(f"unknown grade {grade!r} (grades: {'、'.join(grades)})")
    declared = ", ".join(f"{name} ({weight})" for name, weight in evaluation.dimensions)
    scored: list[tuple[str, int]] = []
    for name, value in dimensions.items():
        weight = evaluation.weight(name)
        if weight is None:
            raise BadInput(f"unknown dimension {name!r} (dimensions and weights: {declared})")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= weight:
            raise BadInput(f"dimension {name} scores from 0 to its weight {weight}, not {value!r}")
        scored.append((name, value))
    missing = [name for name, _ in evaluation.dimensions if name not in dimensions]
    if missing:
        raise BadInput(
            f"every dimension is scored: missing {', '.join(missing)} "
            f"(dimensions and weights: {declared})"
        )
    total = sum(value for _, value in scored)
    if total != score:
        raise BadInput(f"the dimension scores add up to {total}, not --score {score}")
    earned = evaluation.grade_of(score)
    if grade != earned:
        band = evaluation.band(earned)
        assert band is not None
        raise BadInput(f"a score of {score} is graded {earned} ({band[0]}–{band[1]}), not {grade}")
    order = {name: index for index, (name, _) in enumerate(evaluation.dimensions)}
    poor = grade in evaluation.poor
    return Scores(
        score,
        grade,
        tuple(sorted(scored, key=lambda pair: order[pair[0]])),
        poor,
        evaluation.on_poor if poor else None,
    )
