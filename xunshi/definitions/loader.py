"""Reading definitions: YAML text in, a validated Definition (or every problem) out.

The YAML is composed into nodes and turned into plain values by hand, so nothing but
text, numbers, booleans, null, lists and mappings can come out of it, and every value
keeps the line and column it came from. Plain scalars follow the YAML 1.2 core schema:
only `true`/`false` (any case style) are booleans, so `on`, `off`, `yes`, `no` stay text,
and dates stay text too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from importlib import resources

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from xunshi.definitions.schema import Definition
from xunshi.definitions.validate import Issue, Path, check_definition

# Alias expansion can make a small text huge ("billion laughs"); definitions are small.
MAX_VALUES = 100_000

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class DefinitionLoader(yaml.SafeLoader):
    """A SafeLoader whose implicit types follow the YAML 1.2 core schema (no yes/no/on/off)."""


_CORE_SCHEMA: list[tuple[str, str, list[str]]] = [
    (_BOOL, r"true|True|TRUE|false|False|FALSE", list("tTfF")),
    (_NULL, r"~|null|Null|NULL|", [*"~nN", ""]),  # "" is how PyYAML files the empty scalar
    (_INT, r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", list("-+0123456789")),
    (
        _FLOAT,
        r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)",
        list("-+.0123456789"),
    ),
    (_MERGE, r"<<", ["<"]),  # recognised only to be refused with a clear message
]
# An own, empty table: add_implicit_resolver then fills this one, not SafeLoader's.
DefinitionLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in _CORE_SCHEMA:
    DefinitionLoader.add_implicit_resolver(_tag, re.compile(rf"^(?:{_pattern})\Z"), _first)


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem with a definition, at a 1-based line and column of its file."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class DefinitionError(ValueError):
    """A definition could not be loaded; `problems` lists every reason, in file order."""

    def __init__(self, source: str, problems: Iterable[Problem]) -> None:
        self.source = source
        unique = dict.fromkeys(problems)  # same problem twice (e.g. via an alias) reads once
        self.problems = sorted(unique, key=lambda p: (p.line, p.col))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class Document:
    """A YAML document as plain values, with the position of every value and mapping key."""

    source: str
    value: object
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()

    def position(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """(line, col) of the value at `path` (or its key), else of its nearest ancestor."""
        if key and path in self.key_positions:
            return self.key_positions[path]
        for end in range(len(path), -1, -1):
            found = self.positions.get(path[:end])
            if found is not None:
                return found
        return (1, 1)

    def problem(self, issue: Issue) -> Problem:
        """The Problem for a validation issue, placed in this document."""
        line, col = self.position(issue.path, key=issue.key)
        message = issue.message
        if issue.also is not None:
            message += f" (also at line {self.position(issue.also, key=issue.key)[0]})"
        return Problem(self.source, line, col, message)


def read_yaml(text: str, source: str = "<string>") -> Document:
    """Parse one YAML document into plain values with positions; DefinitionError if not YAML."""
    builder = _Builder(source)
    loader: DefinitionLoader | None = None
    try:
        loader = DefinitionLoader(text)  # checks every character already
        node = loader.get_single_node()
        value = None if node is None else builder.value(node, ())
    except yaml.YAMLError as exc:
        raise DefinitionError(source, [_syntax_problem(exc, text, source)]) from exc
    except _TooLarge:
        message = f"document too large (more than {MAX_VALUES} values once aliases are expanded)"
        raise DefinitionError(source, [Problem(source, 1, 1, message)]) from None
    except RecursionError:
        raise DefinitionError(source, [Problem(source, 1, 1, "YAML nested too deeply")]) from None
    finally:
        if loader is not None:
            loader.dispose()
    return Document(
        source, value, builder.positions, builder.key_positions, tuple(builder.problems)
    )


def parse_definition(
    text: str, source: str = "<string>", *, guards: Collection[str] = ()
) -> Definition:
    """Parse and validate a definition; DefinitionError lists every problem found."""
    document = read_yaml(text, source)
    if document.value is None:
        raise DefinitionError(source, [Problem(source, 1, 1, "the definition is empty")])
    definition, issues = check_definition(document.value, guards=guards)
    problems = [*document.problems, *(document.problem(issue) for issue in issues)]
    if problems or definition is None:
        raise DefinitionError(source, problems)
    return definition


def load_definition_file(
    path: str | os.PathLike[str], *, guards: Collection[str] = ()
) -> Definition:
    """Read a UTF-8 definition file and parse it; DefinitionError if unreadable or invalid."""
    source = os.fspath(path)
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        problem = Problem(source, 1, 1, f"cannot read file: {reason}")
        raise DefinitionError(source, [problem]) from exc
    try:
        text = data.decode("utf-8-sig")  # a BOM is not part of the text (nor of column 1)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        problem = Problem(source, line, col, "file is not UTF-8 text")
        raise DefinitionError(source, [problem]) from exc
    return parse_definition(text, source, guards=guards)


def builtin_sources() -> list[tuple[str, str]]:
    """The bundled definitions as (file name, text), sorted by file name."""
    folder = resources.files("xunshi.definitions") / "builtin"
    files = [f for f in folder.iterdir() if f.is_file() and f.name.endswith(".yaml")]
    return sorted((f.name, f.read_text(encoding="utf-8")) for f in files)


# Guards the bundled definitions use; the engine registers their implementations
# (`xunshi.workflow.guards`, checked by a test).
BUILTIN_GUARDS: frozenset[str] = frozenset({"all_items_settled", "all_tasks_done", "evaluated"})


def builtin_definitions(guards: Collection[str] = BUILTIN_GUARDS) -> list[Definition]:
    """The bundled definitions, parsed and validated, in file-name order."""
    return [parse_definition(text, name, guards=guards) for name, text in builtin_sources()]


class _TooLarge(Exception):
    """Alias expansion went past MAX_VALUES."""


class _Builder:
    """Turns composed nodes into plain values, noting positions and node-level problems."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.positions: dict[Path, tuple[int, int]] = {}
        self.key_positions: dict[Path, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self._open: set[int] = set()  # collections being built: an alias back to one is a loop
        self._count = 0

    def value(self, node: Node, path: Path) -> object:
        self._count += 1
        if self._count > MAX_VALUES:
            raise _TooLarge
        self.positions.setdefault(path, _mark(node))
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if id(node) in self._open:
            self.report(node, "an alias refers to a value that contains it")
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                self.check_tag(node, _SEQ)
                return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
            assert isinstance(node, MappingNode)  # the composer makes no other kind
            self.check_tag(node, _MAP)
            return self.mapping(node, path)
        finally:
            self._open.discard(id(node))

    def mapping(self, node: MappingNode, path: Path) -> dict[object, object]:
        result: dict[object, object] = {}
        first_line: dict[object, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                self.report(key_node, "merge keys (<<) are not supported; use an alias (*name)")
                continue
            if not isinstance(key_node, ScalarNode):
                self.report(key_node, "a mapping key must be a plain value, not a list or mapping")
                continue
            key = self.scalar(key_node)
            if key in first_line:
                self.report(key_node, f"duplicate key {key!r} (also at line {first_line[key]})")
                continue
            first_line[key] = _mark(key_node)[0]
            self.key_positions[(*path, key)] = _mark(key_node)
            result[key] = self.value(value_node, (*path, key))
        return result

    def scalar(self, node: ScalarNode) -> object:
        text: str = node.value
        try:
            if node.tag == _STR:
                return text
            if node.tag == _NULL:
                return None
            if node.tag == _BOOL:
                return _boolean(text)
            if node.tag == _INT:
                return _integer(text)
            if node.tag == _FLOAT:
                return float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))
        except ValueError:
            self.report(node, f"cannot read {text!r} as {_short_tag(node.tag)}")
            return text
        self.report(node, f"unsupported YAML tag {_short_tag(node.tag)}")
        return text

    def check_tag(self, node: Node, expected: str) -> None:
        if node.tag != expected:
            self.report(node, f"unsupported YAML tag {_short_tag(node.tag)}")

    def report(self, node: Node, message: str) -> None:
        line, col = _mark(node)
        self.problems.append(Problem(self.source, line, col, message))


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _boolean(text: str) -> bool:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    raise ValueError(text)


def _integer(text: str) -> int:
    if text.startswith(("0o", "0x")):
        return int(text, 0)
    return int(text, 10)


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml") else tag


def _syntax_problem(exc: yaml.YAMLError, text: str, source: str) -> Problem:
    """One Problem for a YAML syntax error, at the place the parser gave up."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        message = f"YAML syntax error: {exc.problem or exc.context}"
        if exc.context and exc.context_mark and exc.problem_mark:
            context_line = exc.context_mark.line + 1
            if context_line != exc.problem_mark.line + 1:
                message += f" ({exc.context} at line {context_line})"
        if mark is not None:
            return Problem(source, mark.line + 1, mark.column + 1, message)
        return Problem(source, 1, 1, message)
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        line = before.count("\n") + 1
        col = exc.position - (before.rfind("\n") + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return Problem(source, line, col, f"YAML syntax error: unacceptable character #x{code:04x}")
    return Problem(source, 1, 1, f"YAML syntax error: {exc}")
