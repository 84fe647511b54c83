"""The JSON API fuzzed from its own OpenAPI document (schemathesis) on a populated database:
whatever a script sends, no answer is a server error and every answer matches the document
(status codes, content types, bodies), for a user who sees everything and for one who sees
a single unit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from desk_harness import PASSWORD, ROUND, Desk, populated_desk
from hypothesis import HealthCheck, given, settings

from xunshi.workflow.clock import ManualClock


@pytest.fixture(params=["李明", "赵联络员"], ids=["office", "unit-liaison"])
def fuzzed(request: pytest.FixtureRequest, sqlite_url: str, clock: ManualClock) -> Iterator[Any]:
    """The populated desk's application, one case further along and one withdrawn, and a
    token of the user the test runs as."""
    for desk in populated_desk(sqlite_url, clock):
        _more_history(desk)
        client = desk.client()
        token = desk.app.services.users.new_token(request.param).token
        yield client.app, {"Authorization": f"Bearer {token}"}


def _more_history(desk: Desk) -> None:
    cases = desk.app.services.cases
    for name in ("briefings_received", "training_done"):
        cases.record_milestone(f"{ROUND}/U01", name, actor="李明", role="office")
    cases.fire(f"{ROUND}/U01", "move_in", actor="张组长", role="group_leader")
    cases.void(f"{ROUND}/U03", actor="李明", role="office", reason="重复立项")
    assert desk.app.services.users.sign_in("李明", PASSWORD).role == "office"


def test_the_api_answers_every_request_as_documented(fuzzed: Any) -> None:
    application, headers = fuzzed
    api = schemathesis.openapi.from_asgi("/api/v1/openapi.json", application)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 3
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case: Any) -> None:
            case.call_and_validate(headers=headers)

        answers_as_documented()
