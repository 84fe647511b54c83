"""What the code knows about 问题线索 (clues): receivers, disposition types, who sees a clue.

A clue is a lead about a person, so its record stays small: a code, a summary of at most
200 characters that describes the person by role (某处处长), never by name or number, and
where the clue went. The summary (and the outcome) is seen only by the office and by the
receiving body the clue was handed over to (`may_see`); the CLI takes the role from
`--role`, the web desk will take it from the signed-in user. Nothing here touches the
database: services and queries both ask it.
"""

from __future__ import annotations

import re

from xunshi.errors import BadInput, Refused
from xunshi.texts import check_name

# The receiving bodies that are roles of their own: they see (and act on) the clues handed
# over to them. Any other receiver is named in words; only the office sees its clues.
RECEIVERS: dict[str, str] = {"discipline_group": "纪检监察组", "organization_dept": "组织部"}
OTHER_RECEIVER = "other"
# How the receiver disposes of a clue (处置方式), as published practice names them.
DISPOSITIONS: tuple[str, ...] = ("谈话函询", "初步核实", "暂存待查", "予以了结", "立案审查")
# Who sees every clue; a receiving body sees those handed over to it.
OFFICE = "office"
# Who registers clues: the office, and the groups that find them.
REGISTERING_ROLES: tuple[str, ...] = (OFFICE, "group_leader")

# Personal details the system must not hold: a resident ID number (18 digits, the last may
# be X; or the old 15), a mobile number (11 digits from 13…19), a landline with area code.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?1[3-9][0-9](?:[- ]?[0-9]{4}){2}(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])0[1-9][0-9]{1,2}-[0-9]{7,8}(?![0-9])")


def may_see(role: str, receiver: str) -> bool:
    """Whether `role` may see a clue handed over to `receiver` ("" before the handover)."""
    return role == OFFICE or (role in RECEIVERS and role == receiver)


def sight_refused(role: str, label: str) -> Refused:
    """The refusal for a role that may not see a clue (the web desk will answer 404)."""
    return Refused(f"role {role} may not see {label}'s summary")


def check_summary(value: str, what: str = "clue summary") -> str:
    """A summary (or an outcome): one line of at most 200 characters, no personal numbers.

    The system cannot tell a name from a role; it refuses what it can recognise, an ID card
    or a telephone number, and says what belongs there instead.
    """
    text = check_name(what, value)
    for pattern, kind in (
        (_ID_NUMBER, "an ID card number"),
        (_MOBILE, "a telephone number"),
        (_LANDLINE, "a telephone number"),
    ):
        if pattern.search(text):
            raise BadInput(
                f"{what} must not hold personal details and this looks like {kind}: describe "
                "the person by role (e.g. 某处处长), never by name or number"
            )
    return text


def check_disposition(value: str) -> str:
    """One of the disposition types (`DISPOSITIONS`)."""
    text = value.strip()
    if text not in DISPOSITIONS:
        raise BadInput(f"disposition {value!r} is not one of {', '.join(DISPOSITIONS)}")
    return text


def receiver_of(text: str) -> tuple[str, str]:
    """A receiver as a sheet writes it: `discipline_group` or 纪检监察组, `organization_dept`
    or 组织部, else another receiver named by the text. (receiver, name)."""
    value = check_name("receiver", text)
    for role, title in RECEIVERS.items():
        if value in (role, title):
            return role, title
    return OTHER_RECEIVER, value
