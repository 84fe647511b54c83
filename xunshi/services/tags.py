"""Business-domain tags (业务领域): the office's list, and the tags an item carries.

The list is kept like the category list: `tags load FILE.yaml` makes it what the file says
(a tag still carried by an item or named by a theme cannot be removed). An item's tags are
among its facts: its first event records them and `item update --tag` changes them with a
reason, so its history covers them (as names, sorted, so the record does not depend on the
list's order).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, select

from xunshi.display import shown
from xunshi.errors import BadInput, NotFound, Refused
from xunshi.read.catalog import Tag
from xunshi.services.lists import gone_from, make_list
from xunshi.services.results import TagsLoaded
from xunshi.storage import queries as q
from xunshi.texts import check_name

# How a sheet's cell separates several tags: 、 , ， ; ；
TAG_SEPARATORS = re.compile(r"[、,，;；]")


def split_tags(text: str) -> tuple[str, ...]:
    """The tags written in one cell, `承包商管理、合同资产管理`, in order, blanks dropped."""
    return tuple(part.strip() for part in TAG_SEPARATORS.split(text) if part.strip())


def parse_tags(text: str, source: str) -> list[str]:
    """A tag file: `tags: [承包商管理, …]` (YAML), in order."""
    import yaml  # only when a tag file is read (start-up time)

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise BadInput(f"{source}: not valid YAML{where}") from exc
    if not isinstance(document, dict) or set(document) != {"tags"}:
        raise BadInput(f"{source}: expected one key, tags: [业务领域, …]")
    listed = document["tags"]
    if not isinstance(listed, list) or not listed:
        raise BadInput(f"{source}: tags must be a list of 业务领域 names")
    found: list[str] = []
    for given in listed:
        if not isinstance(given, str) or not given.strip() or TAG_SEPARATORS.search(given):
            raise BadInput(f"{source}: tag {shown(given)} must be text without 、 , ， ; or ；")
        try:
            name = check_name("tag", given)
        except BadInput as exc:
            raise BadInput(f"{source}: {exc.message}") from None
        if name in found:
            raise BadInput(f"{source}: tag {name} is listed twice")
        found.append(name)
    return found


def load_tags(conn: Connection, wanted: Sequence[str], source: str) -> TagsLoaded:
    """Make the tag list `wanted` (in its order): added, kept, removed."""
    t = q.tags
    current = {
        row.name: row.id
        for row in conn.execute(select(t.c.id, t.c.name).order_by(t.c.position, t.c.id))
    }
    gone = gone_from(current, wanted)
    used = {row[0] for row in conn.execute(select(q.item_tags.c.tag_id).distinct())}
    used |= {row[0] for row in conn.execute(select(q.theme_tags.c.tag_id).distinct())}
    still_used = [name for name in gone if current[name] in used]
    if still_used:
        raise Refused(
            f"{source}: tags still carried by items or named by themes cannot be removed: "
            + ", ".join(still_used)
        )
    return TagsLoaded(*make_list(conn, t, current, wanted, lambda name: {"name": name}))


def find_tags(conn: Connection, names: Iterable[str]) -> list[Tag]:
    """The tags named (each once, in the order given); NotFound naming the list's closest or
    all of it for a name it lacks."""
    names = list(names)
    if not names:  # most problems carry none: nothing to read
        return []
    t = q.tags
    known = {
        row.name: Tag(row.id, row.name)
        for row in conn.execute(select(t.c.id, t.c.name).order_by(t.c.position, t.c.id))
    }
    found: list[Tag] = []
    for given in names:
        name = given.strip()
        if not name:
            raise BadInput("a tag must not be empty")
        if name not in known:
            raise NotFound(unknown_tag(name, list(known)))
        if known[name] not in found:
            found.append(known[name])
    return found


def unknown_tag(name: str, known: Sequence[str]) -> str:
    """`tag 承包商 is not in the tag list; did you mean 承包商管理?` (or the known ones)."""
    if not known:
        return f"tag {name} is not in the tag list: it is empty (load it with `xunshi tags load`)"
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.4)
    if close:
        return f"tag {name} is not in the tag list; did you mean {close[0]}?"
    return f"tag {name} is not in the tag list; known tags: {'、'.join(known)}"


def tag_names(tags: Iterable[Tag]) -> list[str]:
    """The names as an item's history records them: sorted."""
    return sorted(tag.name for tag in tags)


def set_item_tags(
    conn: Connection, item_id: int, tags: Iterable[Tag], *, new: bool = False
) -> None:
    """Make the item's tags exactly `tags` (`new`: the item was just added, it has none)."""
    it = q.item_tags
    if not new:
        conn.execute(it.delete().where(it.c.item_id == item_id))
    rows = [{"item_id": item_id, "tag_id": tag.id} for tag in tags]
    if rows:
        conn.execute(it.insert(), rows)


def item_tag_names(conn: Connection, item_id: int) -> list[str]:
    """The item's tags as its history records them (sorted names)."""
    t, it = q.tags, q.item_tags
    return sorted(
        conn.execute(
            select(t.c.name).join(it, it.c.tag_id == t.c.id).where(it.c.item_id == item_id)
        ).scalars()
    )
