"""A lifecycle definition drawn as an SVG state diagram, on the server, without a library.

The layout is layered: the states reachable from the initial one are ordered by a depth-first
walk (in declaration order); a transition to a state still on the walk's path goes back, every
other one forward. Each state's column is the longest forward path to it; the states of a
column stand one under another in declaration order. Forward transitions to the next column
are straight arrows; those that skip columns arch over the top; transitions back run under
the diagram; a transition to its own state loops above its box. Labels name the trigger's
title and the roles that may fire it.

The same definition always gives the same picture, and every text is escaped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from html import escape

from xunshi.definitions.schema import Definition, Transition

BOX_W = 150
BOX_H = 50
GAP_X = 190  # between columns: room for the labels of the arrows
GAP_Y = 44
LEFT = 60  # room for the start dot
MARGIN = 20
LINE = 13  # the height of a line of a label
FIRST_ARCH = 30  # how far the first arch's control points stand from the boxes
ROLE_LINE = 14  # characters of role titles on one line of a label
FONT = "font-family=\"'Noto Sans CJK SC','Microsoft YaHei',sans-serif\""


@dataclass(frozen=True, slots=True)
class Box:
    """Where a state stands: its column and row, and the box's corner."""

    column: int
    row: int
    x: int
    y: int

    @property
    def middle(self) -> tuple[int, int]:
        """The centre of the box."""
        return self.x + BOX_W // 2, self.y + BOX_H // 2


def layers(defn: Definition) -> tuple[dict[str, int], set[tuple[str, str]]]:
    """Each state's column, and the (source, destination) pairs that go back."""
    names = [s.name for s in defn.states]
    targets: dict[str, list[str]] = {n: [] for n in names}
    for t in defn.transitions:
        if t.dest not in targets[t.source]:
            targets[t.source].append(t.dest)
    back: set[tuple[str, str]] = set()
    order: list[str] = []
    seen: set[str] = set()

    def walk(start: str) -> None:
        # Iterative depth-first walk: `path` holds the states being walked.
        path: list[str] = [start]
        seen.add(start)
        pending: list[Iterator[str]] = [iter(targets[start])]
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                order.append(path.pop())
                pending.pop()
            elif nxt in path:
                back.add((path[-1], nxt))
            elif nxt not in seen:
                seen.add(nxt)
                path.append(nxt)
                pending.append(iter(targets[nxt]))

    for start in [defn.initial, *names]:
        if start not in seen:
            walk(start)
    column = dict.fromkeys(names, 0)
    for name in reversed(order):  # a topological order of the forward edges
        for nxt in targets[name]:
            if (name, nxt) not in back and nxt != name:
                column[nxt] = max(column[nxt], column[name] + 1)
    return column, back


def boxes(defn: Definition, top: int) -> dict[str, Box]:
    """Every state's box; the first row at `top`."""
    column, _back = layers(defn)
    rows: dict[int, int] = {}
    placed = {}
    for state in defn.states:
        col = column[state.name]
        row = rows.get(col, 0)
        rows[col] = row + 1
        placed[state.name] = Box(
            col, row, LEFT + col * (BOX_W + GAP_X), top + row * (BOX_H + GAP_Y)
        )
    return placed


def edge_label(defn: Definition, transition: Transition) -> tuple[str, str]:
    """The trigger's title (or name) and the titles of its roles."""
    roles = "、".join(defn.role_title(r) for r in transition.roles)
    return transition.title or transition.trigger, roles


def label_lines(defn: Definition, transition: Transition) -> list[str]:
    """The label as drawn: the trigger's title, then its roles, wrapped to fit a gap."""
    title = transition.title or transition.trigger
    lines: list[str] = []
    for role in (defn.role_title(r) for r in transition.roles):
        if lines and len(lines[-1]) + 1 + len(role) <= ROLE_LINE:
            lines[-1] += "、" + role
        else:
            lines.append(role)
    return [title, *lines]


def _band(lines: list[str]) -> int:
    """How far apart two arches (or loops back) stand so that a label fits between them:
    a cubic's apex is three quarters of the way to its control points."""
    return (LINE * len(lines) + 10) * 4 // 3


def draw(defn: Definition) -> str:
    """The SVG (a standalone XML element) of the definition's lifecycle."""
    _columns, back = layers(defn)
    probe = boxes(defn, 0)
    labels = [label_lines(defn, t) for t in defn.transitions]
    spans = [abs(probe[t.dest].column - probe[t.source].column) for t in defn.transitions]
    # Innermost first: loops to a state itself, then the arches spanning fewer columns.
    arches = sorted(
        (
            n
            for n, t in enumerate(defn.transitions)
            if t.source == t.dest or ((t.source, t.dest) not in back and spans[n] > 1)
        ),
        key=lambda n: (spans[n], n),
    )
    returns = sorted(
        (
            n
            for n, t in enumerate(defn.transitions)
            if (t.source, t.dest) in back and t.source != t.dest
        ),
        key=lambda n: (spans[n], n),
    )
    rises = _offsets([labels[n] for n in arches])
    sinks = _offsets([labels[n] for n in returns])
    top = MARGIN + rises[-1]
    placed = boxes(defn, top)
    grid_bottom = max(b.y for b in placed.values()) + BOX_H
    width = max(b.x for b in placed.values()) + BOX_W + MARGIN + 40
    height = grid_bottom + sinks[-1] + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(defn.title)}" {FONT} font-size="12">',
        f"<title>{escape(f'{defn.title}（{defn.name}）')}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    parts += _start(placed[defn.initial])
    forward_slots: dict[tuple[int, int], int] = {}
    for n, t in enumerate(defn.transitions):
        src, dst = placed[t.source], placed[t.dest]
        if n in arches:
            parts += _arch(t, labels[n], src, dst, top - rises[arches.index(n)])
        elif n in returns:
            parts += _return(t, labels[n], src, dst, grid_bottom + sinks[returns.index(n)])
        else:
            slot = forward_slots.get((src.column, src.row), 0)
            forward_slots[(src.column, src.row)] = slot + 1
            parts += _straight(t, labels[n], src, dst, slot)
    for state in defn.states:
        parts += _state(placed[state.name], state.title, state.name, state.final)
    parts.append("</svg>")
    return "\n".join(parts)


def _offsets(labels: list[list[str]]) -> list[int]:
    """How far from the boxes each arch's (or loop's) control points stand: each one far
    enough beyond the one before for that one's label to fit between them; the last entry
    is how much room they all take."""
    found, total = [], FIRST_ARCH
    for lines in labels:
        found.append(total)
        total += _band(lines)
    return [*found, total]


def _start(box: Box) -> list[str]:
    """The filled dot and arrow into the initial state."""
    y = box.y + BOX_H // 2
    return [
        '<g class="initial">',
        f'<circle cx="{box.x - 40}" cy="{y}" r="7" fill="#333"><title>起始</title></circle>',
        f'<line x1="{box.x - 33}" y1="{y}" x2="{box.x}" y2="{y}" stroke="#555" '
        'marker-end="url(#arrow)"/>',
        "</g>",
    ]


def _state(box: Box, title: str, name: str, final: bool) -> list[str]:
    """A rounded box with the state's title and name; a final state has a double border."""
    css = "state final" if final else "state"
    lines = [
        f'<g class="{css}"><title>{escape(f"{title}（{name}）")}</title>',
        f'<rect x="{box.x}" y="{box.y}" width="{BOX_W}" height="{BOX_H}" rx="8" '
        f'fill="#fff" stroke="#2b4c7e" stroke-width="{2 if final else 1.5}"/>',
    ]
    if final:
        lines.append(
            f'<rect x="{box.x + 4}" y="{box.y + 4}" width="{BOX_W - 8}" height="{BOX_H - 8}" '
            'rx="6" fill="none" stroke="#2b4c7e"/>'
        )
    cx = box.x + BOX_W // 2
    lines += [
        f'<text x="{cx}" y="{box.y + 22}" text-anchor="middle" font-size="14" '
        f'font-weight="bold">{escape(title)}</text>',
        f'<text x="{cx}" y="{box.y + 39}" text-anchor="middle" font-size="10" '
        f'fill="#666">{escape(name)}{"（终态）" if final else ""}</text>',
        "</g>",
    ]
    return lines


def _label(lines: list[str], x: int, y: int) -> list[str]:
    """The lines from baseline `y` down, centred on `x`: the title, then smaller the roles."""
    halo = 'stroke="#fff" stroke-width="3" paint-order="stroke"'
    found = [f'<text x="{x}" y="{y}" text-anchor="middle" {halo}>{escape(lines[0])}</text>']
    found += [
        f'<text x="{x}" y="{y + LINE * n}" text-anchor="middle" font-size="10" fill="#555" '
        f"{halo}>{escape(line)}</text>"
        for n, line in enumerate(lines[1:], start=1)
    ]
    return found


def _edge(t: Transition, path: str, label: list[str]) -> list[str]:
    tip = escape(f"{t.trigger}：{t.source} → {t.dest}")
    return [
        f'<g class="transition"><title>{tip}</title>',
        f'<path d="{path}" fill="none" stroke="#555" marker-end="url(#arrow)"/>',
        *label,
        "</g>",
    ]


def _straight(t: Transition, lines: list[str], src: Box, dst: Box, slot: int) -> list[str]:
    """A forward arrow to the next column, from the right side to the left side; the title
    above it, the roles under it (a further arrow from the same box: its label lower)."""
    x1, y1 = src.x + BOX_W, src.y + BOX_H // 2
    x2, y2 = dst.x, dst.y + BOX_H // 2
    path = f"M{x1},{y1} L{x2},{y2}"
    lx, ly = (x1 + x2) // 2, (y1 + y2) // 2 - 5 + slot * LINE * len(lines)
    return _edge(t, path, _label(lines, lx, ly))


def _arch(t: Transition, lines: list[str], src: Box, dst: Box, rise: int) -> list[str]:
    """An arrow arching over the top (a forward jump over columns, or a loop to its own
    state), its label standing on the apex."""
    if t.source == t.dest:
        x1, x2, y1, y2 = src.x + BOX_W // 3, src.x + 2 * BOX_W // 3, src.y, src.y
    else:
        (x1, _), (x2, _) = src.middle, dst.middle
        y1, y2 = src.y, dst.y
    path = f"M{x1},{y1} C{x1},{rise} {x2},{rise} {x2},{y2}"
    apex = (y1 + y2) // 8 + 3 * rise // 4
    return _edge(t, path, _label(lines, (x1 + x2) // 2, apex - 4 - LINE * (len(lines) - 1)))


def _return(t: Transition, lines: list[str], src: Box, dst: Box, sink: int) -> list[str]:
    """An arrow back, under the diagram, from the bottom of one box to the bottom of the
    other; its label hanging under the lowest point."""
    (x1, _), (x2, _) = src.middle, dst.middle
    y1, y2 = src.y + BOX_H, dst.y + BOX_H
    path = f"M{x1},{y1} C{x1},{sink} {x2},{sink} {x2},{y2}"
    bottom = (y1 + y2) // 8 + 3 * sink // 4
    return _edge(t, path, _label(lines, (x1 + x2) // 2, bottom + LINE))
