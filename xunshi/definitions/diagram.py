"""Diagrams of a definition: Mermaid `stateDiagram-v2` and Graphviz dot text.

Both list states and edges in declaration order, so the same definition always gives the
same text (diagrams can be committed and diffed).
"""

from __future__ import annotations

import re

from xunshi.definitions.schema import Definition, State, Transition

# Mermaid reads `;` and `#` specially and passes `<`, `>` and quotes on as markup; its
# entity codes show them as written.
_MERMAID_ENTITIES = {"#": "#35;", ";": "#59;", "<": "#lt;", ">": "#gt;", '"': "#quot;"}
_MERMAID_SPECIAL = re.compile("[" + re.escape("".join(_MERMAID_ENTITIES)) + "]")


def to_mermaid(defn: Definition) -> str:
    """The definition as a Mermaid state diagram, titles and limits on the states."""
    lines = ["stateDiagram-v2", f"    [*] --> {defn.initial}"]
    lines += [f"    {state.name} : {_mermaid_text(_state_label(state))}" for state in defn.states]
    lines += [
        f"    {t.source} --> {t.dest} : {_mermaid_text(_edge_label(t))}" for t in defn.transitions
    ]
    lines += [f"    {state.name} --> [*]" for state in defn.states if state.final]
    return "\n".join(lines) + "\n"


def to_dot(defn: Definition) -> str:
    """The definition as a Graphviz digraph: one node per state, one edge per transition."""
    lines = [
        f"digraph {_dot_string(defn.name)} {{",
        f"    label={_dot_string(f'{defn.title} ({defn.name})')};",
        "    labelloc=t;",
        "    rankdir=LR;",
        "    node [shape=box, style=rounded];",
        '    __start [shape=point, label=""];',
        f"    __start -> {_dot_string(defn.initial)};",
    ]
    for state in defn.states:
        parts = [state.title, state.name] + ([str(state.due)] if state.due else [])
        label = "\\n".join(_dot_escape(_one_line(part)) for part in parts)
        shape = ", shape=doublecircle" if state.final else ""
        lines.append(f'    {_dot_string(state.name)} [label="{label}"{shape}];')
    for t in defn.transitions:
        edge = f"{_dot_string(t.source)} -> {_dot_string(t.dest)}"
        lines.append(f"    {edge} [label={_dot_string(t.trigger)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _state_label(state: State) -> str:
    return f"{state.title} ({state.due})" if state.due else state.title


def _edge_label(transition: Transition) -> str:
    if not transition.roles:
        return transition.trigger
    return f"{transition.trigger} ({', '.join(transition.roles)})"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _mermaid_text(text: str) -> str:
    return _MERMAID_SPECIAL.sub(lambda m: _MERMAID_ENTITIES[m.group()], _one_line(text))


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _dot_string(text: str) -> str:
    return f'"{_dot_escape(_one_line(text))}"'
