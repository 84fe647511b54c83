"""Where an export goes: a file, in the format its extension (or `--format`) names, or stdout.

The rules, checked before anything is read or written:

- `-` is stdout, in the command's first text format unless `--format` says otherwise; a
  workbook (xlsx) is binary and never goes there.
- Without `--format` the file's extension names the format (`.xlsx`, `.csv`, `.jsonl` or
  `.json`, `.ics`, `.md`, as the command supports); an extension that names none of them is
  refused.
- `--format` and an extension that names another format are refused.
- An existing file is replaced only with `--force`.

A file is written to a temporary file beside it and moved into place once complete, so an
export that fails leaves no file behind (and a file it was to replace as it was).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, TypeVar

from xunshi.errors import AlreadyExists, BadInput

STDOUT = "-"
EXTENSIONS = {
    ".xlsx": "xlsx",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ics": "ics",
    ".md": "md",
}
BINARY = frozenset({"xlsx"})
# CSV files get a byte-order mark so that Excel reads them as UTF-8 (stdout gets none).
ENCODINGS = {"csv": "utf-8-sig"}

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Target:
    """Where an export goes (`path` None: stdout) and in which format."""

    path: Path | None
    format: str
    force: bool = False

    @property
    def name(self) -> str:
        """How messages name it: the file, or `-`."""
        return STDOUT if self.path is None else str(self.path)


def choose_target(out: str, fmt: str | None, formats: Sequence[str], *, force: bool) -> Target:
    """Check `--out`, `--format` and `--force` against each other; `formats` in preference order."""
    if out == STDOUT:
        chosen = fmt or next(f for f in formats if f not in BINARY)
        if chosen in BINARY:
            raise BadInput(f"--format {chosen} needs --out FILE")
        return Target(None, chosen)
    path = Path(out)
    named = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        if named is None or named not in formats:
            extensions = [ext for f in formats for ext, kind in EXTENSIONS.items() if kind == f]
            raise BadInput(
                f"cannot tell the format of {path} from its extension: name it "
                f"{_or(extensions)}, or give --format {'|'.join(formats)}"
            )
        fmt = named
    elif named is not None and named != fmt:
        raise BadInput(f"--format {fmt} but {path} ends in {path.suffix}")
    if not path.parent.is_dir():
        raise BadInput(f"{path}: No such file or directory")
    if path.exists() and not force:
        raise AlreadyExists(f"{path} exists; use --force to overwrite it")
    return Target(path, fmt, force)


def write_to(target: Target, write: Callable[[Any], R], stdout: TextIO) -> R:
    """Run `write` on stdout, or on the target file (written whole, or not at all).

    `write` gets a text stream, or a binary one for a binary format (xlsx).
    """
    if target.path is None:
        return write(stdout)
    with _replacing(target.path, target.force) as temporary:
        if target.format in BINARY:
            with temporary.open("wb") as handle:
                return write(handle)
        encoding = ENCODINGS.get(target.format, "utf-8")
        with temporary.open("w", encoding=encoding, newline="") as handle:
            return write(handle)


@contextmanager
def _replacing(path: Path, force: bool) -> Iterator[Path]:
    """A temporary file beside `path`, moved onto it when the block ends without an error."""
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        # Name the file asked for, not the temporary one.
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        if path.exists() and not force:  # created meanwhile by someone else
            raise AlreadyExists(f"{path} exists; use --force to overwrite it")
        _take_mode(temporary, path)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _take_mode(temporary: Path, path: Path) -> None:
    """The mode of the file replaced, else what a new file gets (mkstemp's is owner-only)."""
    if path.exists():
        shutil.copymode(path, temporary)
        return
    mask = os.umask(0)
    os.umask(mask)
    temporary.chmod(0o666 & ~mask)


def _or(words: Sequence[str]) -> str:
    """`.jsonl, .json or .csv`."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
