"""Routing: which channels and email addresses each role's notifications go to.

A routes file (`XUNSHI_ROUTES`, YAML) maps roles to the channels people read — group robots
(`wecom`, `dingtalk`, `feishu`) and `email` — with the role's addresses, and may override
that for a round or for one group of a round:

    roles:
      office: {channels: [wecom, email], email: [duban@example.org]}
      group_leader: {channels: [dingtalk]}
    default: {channels: [wecom]}          # roles listed nowhere
    rounds:
      2025-R1:
        roles: {group_leader: {channels: [feishu]}}
        groups:
          G2: {roles: {group_leader: {channels: [email], email: [g2@example.org]}}}

For each notified role the most specific entry wins: the group's, the round's, the file's
`roles`, then `default`. Round and group codes match in any case, as everywhere. The file
is read and checked once, at start-up; a problem is one `BadInput` naming the file and the
entry (`routes.yaml: roles.office.channels: unknown channel 'wechat' …`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xunshi.errors import BadInput

# The channels a route may name: the ones people read. `file` and `webhook` (xunshi's own
# JSON, for machines) receive every notification whatever the routes say.
ROUTED_CHANNELS = ("wecom", "dingtalk", "feishu", "email")
_ROLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CODE = re.compile(r"^[A-Za-z0-9._-]+$")
# A deliberately plain check: one @, no spaces or angle brackets, a dotted domain.
_ADDRESS = re.compile(r"^[^@\s<>\"(),;:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


@dataclass(frozen=True, slots=True)
class Route:
    """Where one role's notifications go."""

    channels: tuple[str, ...]
    email: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Destinations:
    """Where one notification goes: the routed channels and the email addresses."""

    channels: tuple[str, ...]
    email: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Scope:
    """The roles of the file, of a round or of a group."""

    roles: Mapping[str, Route] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Routes:
    """A checked routes file."""

    source: str
    roles: Mapping[str, Route] = field(default_factory=dict)
    default: Route | None = None
    rounds: Mapping[str, Scope] = field(default_factory=dict)  # round code (lower case) → roles
    groups: Mapping[tuple[str, str], Scope] = field(default_factory=dict)  # (round, group)

    def route(self, role: str, round_code: str | None = None, group: str | None = None) -> Route:
        """The route of `role` in that round and group: the most specific entry wins."""
        scopes: list[Mapping[str, Route]] = []
        if round_code is not None:
            if group is not None:
                scopes.append(self.groups.get((round_code.lower(), group.lower()), Scope()).roles)
            scopes.append(self.rounds.get(round_code.lower(), Scope()).roles)
        scopes.append(self.roles)
        for roles in scopes:
            if role in roles:
                return roles[role]
        return self.default or Route(())

    def destinations(
        self, roles: Iterable[str], round_code: str | None = None, group: str | None = None
    ) -> Destinations:
        """Every channel and address the notified roles are routed to (in order, once)."""
        channels: dict[str, None] = {}
        email: dict[str, None] = {}
        for role in roles:
            route = self.route(role, round_code, group)
            channels.update(dict.fromkeys(route.channels))
            email.update(dict.fromkeys(route.email))
        ordered = tuple(c for c in ROUTED_CHANNELS if c in channels)
        return Destinations(ordered, tuple(email))

    def channels(self) -> frozenset[str]:
        """Every channel some route names."""
        every = [self.roles.values(), [self.default] if self.default else []]
        every += [scope.roles.values() for scope in (*self.rounds.values(), *self.groups.values())]
        return frozenset(c for routes in every for route in routes for c in route.channels)

    def addresses(self, role: str) -> tuple[str, ...]:
        """The file's own addresses of `role` (its `roles` entry, else `default`)."""
        return self.route(role).email


@dataclass(frozen=True, slots=True)
class Router:
    """Chooses each notification's channels: the feeds always, the people's by the routes."""

    feeds: tuple[str, ...] = ()  # file, webhook: xunshi's own JSON, every notification
    people: tuple[str, ...] = ()  # the configured robots and email
    routes: Routes | None = None

    def destinations(
        self, roles: Iterable[str], round_code: str | None = None, group: str | None = None
    ) -> Destinations:
        """The channels (the log if nothing else) and email addresses of one notification."""
        if self.routes is None:
            # Without routes every configured robot gets everything (email needs routes).
            routed = Destinations(tuple(c for c in self.people if c != "email"))
        else:
            found = self.routes.destinations(roles, round_code, group)
            routed = Destinations(tuple(c for c in found.channels if c in self.people), found.email)
        channels = (*self.feeds, *routed.channels) or ("log",)
        return Destinations(channels, routed.email if "email" in channels else ())


def load_routes(path: str, setting: str = "XUNSHI_ROUTES") -> Routes:
    """Read and check a routes file; `BadInput` naming the setting, the file and the entry."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"{setting}: cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{setting}: {path} is not UTF-8 text") from None
    try:
        return read_routes(text, path)
    except BadInput as exc:
        raise BadInput(f"{setting}: {exc.message}") from None


def read_routes(text: str, source: str) -> Routes:
    """Routes from the YAML text of a file called `source`; `BadInput` at the first problem."""
    # YAML only when a routes file is configured (start-up time of every other command).
    import yaml

    try:
        data = yaml.load(text, Loader=_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise BadInput(f"{source}{where}: {problem}") from None
    return parse_routes(data, source)


def parse_routes(data: object, source: str) -> Routes:
    """Routes from the parsed YAML of a file called `source`; `BadInput` at the first problem."""
    top = _mapping(data, source, "", {"roles", "default", "rounds"})
    roles = _roles(top.get("roles", {}), source, "roles")
    default = _route(top["default"], source, "default") if "default" in top else None
    rounds: dict[str, Scope] = {}
    groups: dict[tuple[str, str], Scope] = {}
    for code, body in _mapping(top.get("rounds", {}), source, "rounds").items():
        where = f"rounds.{code}"
        _code(code, source, where)
        scope = _mapping(body, source, where, {"roles", "groups"})
        if code.lower() in rounds:
            raise BadInput(f"{source}: {where}: round {code} is listed twice")
        rounds[code.lower()] = Scope(_roles(scope.get("roles", {}), source, f"{where}.roles"))
        for group, inner in _mapping(scope.get("groups", {}), source, f"{where}.groups").items():
            at = f"{where}.groups.{group}"
            _code(group, source, at)
            if (code.lower(), group.lower()) in groups:
                raise BadInput(f"{source}: {at}: group {group} is listed twice")
            body_of_group = _mapping(inner, source, at, {"roles"})
            groups[(code.lower(), group.lower())] = Scope(
                _roles(body_of_group.get("roles", {}), source, f"{at}.roles")
            )
    return Routes(source, roles, default, rounds, groups)


def parse_address(address: str, where: str) -> str:
    """A bare address (`duban@example.org`), or BadInput saying where it was given."""
    if not _ADDRESS.match(address):
        raise BadInput(f"{where}: {address!r} is not an email address")
    return address


def _roles(data: object, source: str, where: str) -> dict[str, Route]:
    roles: dict[str, Route] = {}
    for name, body in _mapping(data, source, where).items():
        if not _ROLE.match(name):
            raise BadInput(f"{source}: {where}: {name!r} is not a role name")
        roles[name] = _route(body, source, f"{where}.{name}")
    return roles


def _route(data: object, source: str, where: str) -> Route:
    body = _mapping(data, source, where, {"channels", "email"})
    channels = _strings(body.get("channels", []), source, f"{where}.channels")
    for channel in channels:
        if channel not in ROUTED_CHANNELS:
            known = ", ".join(ROUTED_CHANNELS)
            raise BadInput(f"{source}: {where}.channels: unknown channel {channel!r} ({known})")
    email = [
        parse_address(a, f"{source}: {where}.email")
        for a in _strings(body.get("email", []), source, f"{where}.email")
    ]
    if "email" in channels and not email:
        raise BadInput(f"{source}: {where}: channel email without addresses (email: [...])")
    if email and "email" not in channels:
        raise BadInput(f"{source}: {where}: email addresses but no channel email in channels")
    return Route(tuple(dict.fromkeys(channels)), tuple(dict.fromkeys(email)))


def _mapping(data: object, source: str, where: str, keys: set[str] | None = None) -> dict[str, Any]:
    at = f"{source}: {where}" if where else source
    if data in (None, "") and where:
        return {}
    if not isinstance(data, dict):
        raise BadInput(f"{at}: expected a mapping, got {_kind(data)}")
    for key in data:
        if not isinstance(key, str):
            raise BadInput(f"{at}: key {key!r} is not text")
        if keys is not None and key not in keys:
            allowed = ", ".join(sorted(keys))
            raise BadInput(f"{at}: unknown key {key!r} (allowed: {allowed})")
    return data


def _strings(data: object, source: str, where: str) -> list[str]:
    if data == "":
        return []
    if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
        raise BadInput(f"{source}: {where}: expected a list of names, got {_kind(data)}")
    return list(data)


def _code(code: str, source: str, where: str) -> None:
    if not _CODE.match(code):
        raise BadInput(f"{source}: {where}: {code!r} is not a code (letters, digits, . _ -)")


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{type(value).__name__} {value!r}"


def _loader() -> Any:
    """A safe loader that keeps every scalar a string (codes like 2025 or `on` stay text)."""
    # YAML only when a routes file is configured.
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader without implicit types."""

    Loader.yaml_implicit_resolvers = {}
    return Loader
