"""The JSON API's documented shapes: the CLI's `--json` output, described for the OpenAPI
document (`/api/v1/openapi.json`) and checked on the way out, so that a change of a shape
cannot slip past the document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Shape(BaseModel):
    """A documented shape: exactly the fields listed, nothing more."""

    model_config = ConfigDict(extra="forbid")


class Problem(Shape):
    """Why a request was refused or found nothing."""

    detail: str = Field(examples=["not found"])


class RoundShape(Shape):
    """A round, as `round list --json` prints it."""

    id: int
    code: str
    title: str
    start_on: str = Field(description="ISO date the round starts")


class Voided(Shape):
    """When, by whom, in which role and why a record was withdrawn (撤销)."""

    at: str
    actor: str
    role: str | None
    reason: str | None


class CaseShape(Shape):
    """A case, as `case show --json` prints it."""

    id: int
    key: str = Field(description="ROUND/UNIT")
    definition: str
    definition_version: int
    state: str
    state_title: str
    entered_at: str
    due_on: str | None
    provisional: bool
    overdue: bool
    suspended: bool
    milestones: dict[str, str | None] = Field(
        description="the current stage's milestones: when each was recorded, or null"
    )
    counts: dict[str, int]
    version: int
    round: str
    unit: str
    group: str
    voided: Voided | None
    follows: str | None = Field(description="the earlier case a 回头看 follows")
    evaluation: dict[str, Any] | None = Field(description="the latest 整改评估, if any")


# What every API route may answer besides its own shape.
REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no valid API token"},
    404: {"model": Problem, "description": "nothing of that name within the token's scope"},
}
# A list's filter that names nothing (an unknown state, say), or a page's `limit` or
# `after` that does not parse.
BAD_FILTER: dict[int | str, dict[str, Any]] = {
    400: {
        "model": Problem,
        "description": "a filter that names nothing, or a limit or after that does not parse",
    },
}
