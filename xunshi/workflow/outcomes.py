"""整改成果: what rectification achieved, checked and added up (pure).

An outcome counts rules made or revised (建章立制, by title), people held accountable
(问责人数) and funds recovered or losses avoided (挽回损失, in 万元 to two decimal places),
with its evidence. A task records its own when it is done (the `task_done` event's
`outcome`); an item records its own as a whole (`item outcome`: an `outcome` event; a second
one replaces it and says why). An item's figures add its tasks' and its own, each rule
title counted once per item whoever recorded it.

Funds are kept in hundredths of 万元 (百元): whole numbers add up exactly on every backend;
an event records them as text with two decimals (`"12.50"`), never as a float.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from xunshi.errors import BadInput
from xunshi.texts import check_name, check_number, check_text

MAX_RULES = 50  # rule titles recorded at once
MAX_ACCOUNTABLE = 10_000  # people held accountable by one task or item
MAX_FUNDS_WAN = 10_000_000  # 万元 (一千亿元): more is a typing mistake
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_BRACKETS = "《》"


@dataclass(frozen=True, slots=True)
class Outcome:
    """A checked outcome: rule titles (without 《》), people, funds in hundredths of 万元."""

    rules: tuple[str, ...] = ()
    accountable: int = 0
    funds: int = 0
    evidence: str = ""

    @property
    def achieved(self) -> bool:
        """Whether it counts anything (a rule, a person or funds)."""
        return bool(self.rules) or self.accountable > 0 or self.funds > 0

    def to_data(self) -> dict[str, Any]:
        """What an event records (a task's outcome leaves its evidence to the task)."""
        data: dict[str, Any] = {
            "rules": list(self.rules),
            "accountable": self.accountable,
            "funds": funds_data(self.funds),
        }
        if self.evidence:
            data["evidence"] = self.evidence
        return data

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape: the titles, how many, people, funds (`"12.50"` 万元)."""
        return {
            "rules": list(self.rules),
            "rule_count": len(self.rules),
            "accountable": self.accountable,
            "funds": funds_data(self.funds),
            "evidence": self.evidence,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Outcome:
        """The outcome an event recorded."""
        return cls(
            rules=tuple(str(title) for title in data["rules"]),
            accountable=int(data["accountable"]),
            funds=hundredths(str(data["funds"])),
            evidence=str(data.get("evidence", "")),
        )

    def plus(self, other: Outcome) -> Outcome:
        """Both added up: each rule once (in the order first recorded), people and funds
        summed; the evidence is left out (each record keeps its own)."""
        rules = tuple(dict.fromkeys((*self.rules, *other.rules)))
        return Outcome(rules, self.accountable + other.accountable, self.funds + other.funds)


NOTHING = Outcome()


def total(outcomes: Iterable[Outcome]) -> Outcome:
    """Outcomes added up (see `Outcome.plus`)."""
    summed = NOTHING
    for outcome in outcomes:
        summed = summed.plus(outcome)
    return summed


def check_outcome(
    rules: Sequence[str], accountable: int | str | None, funds: str | None, evidence: str = ""
) -> Outcome:
    """The outcome as recorded, or BadInput naming the value that is wrong and what is
    allowed (`funds` as typed: 万元 with at most two decimal places)."""
    if len(rules) > MAX_RULES:
        raise BadInput(f"at most {MAX_RULES} rules (--rule) are recorded at once")
    titles: list[str] = []
    for given in rules:
        title = rule_title(given)
        if title in titles:
            raise BadInput(f"--rule 《{title}》 is given twice")
        titles.append(title)
    people = 0
    if isinstance(accountable, str):
        people = check_number(
            "--accountable", accountable, maximum=MAX_ACCOUNTABLE, noun="a number of people"
        )
    elif accountable is not None:
        if isinstance(accountable, bool) or not 0 <= accountable <= MAX_ACCOUNTABLE:
            raise BadInput(f"--accountable {accountable} is out of range (0 to {MAX_ACCOUNTABLE})")
        people = accountable
    amount = 0 if funds is None else parse_funds(funds)
    checked = check_text("evidence", evidence, required=False)
    return Outcome(tuple(titles), people, amount, checked)


def rule_title(text: str) -> str:
    """A rule's title without the 《》 around it: one line, not empty."""
    stripped = text.strip()
    if stripped.startswith(_BRACKETS[0]) and stripped.endswith(_BRACKETS[1]):
        stripped = stripped[1:-1]
    if not stripped.strip():
        raise BadInput("a rule title (--rule) is empty: give the rule's name, e.g. 合同管理办法")
    return check_name("rule title (--rule)", stripped)


def parse_funds(text: str) -> int:
    """An amount in 万元 typed by a person (`12.5`), in hundredths of 万元."""
    raw = text.strip()
    if raw.startswith("-") and _AMOUNT.fullmatch(raw[1:]):
        raise BadInput(f"--funds {raw} is negative: give the amount recovered or saved, ≥ 0")
    if not _AMOUNT.fullmatch(raw):
        raise BadInput(f"--funds {text!r} is not an amount in 万元 (digits, e.g. 12.5)")
    whole, _, decimals = raw.partition(".")
    if len(decimals) > 2:
        raise BadInput(f"--funds {raw} has more than two decimal places (万元 to the 百元)")
    value = int(whole) * 100 + int(decimals.ljust(2, "0") or "0")
    if value > MAX_FUNDS_WAN * 100:
        raise BadInput(f"--funds {raw} is out of range (0 to {MAX_FUNDS_WAN} 万元)")
    return value


def hundredths(text: str) -> int:
    """The hundredths of 万元 an event's `"12.50"` records."""
    whole, dot, decimals = text.partition(".")
    if not (whole.isdigit() and dot and len(decimals) == 2 and decimals.isdigit()):
        raise ValueError(f"funds {text!r} are not written as 万元 with two decimals")
    return int(whole) * 100 + int(decimals)


def funds_data(value: int) -> str:
    """How an event records funds: `"12.50"`."""
    return f"{value // 100}.{value % 100:02d}"


def funds_text(value: int) -> str:
    """Funds as people read them, in 万元: `12.5`, `3`, `0.05`."""
    return funds_data(value).rstrip("0").rstrip(".")


def to_row(outcome: Outcome) -> dict[str, Any]:
    """The columns of an outcome's row (the rules as a JSON list)."""
    return {
        "rules": json.dumps(list(outcome.rules), ensure_ascii=False),
        "accountable": outcome.accountable,
        "funds": outcome.funds,
        "evidence": outcome.evidence,
    }


def from_row(row: Mapping[Any, Any]) -> Outcome:
    """The outcome a `rectification_outcome` row stores."""
    return Outcome(
        rules=tuple(json.loads(row["rules"])),
        accountable=int(row["accountable"]),
        funds=int(row["funds"]),
        evidence=str(row["evidence"]),
    )
