"""Fixtures of the CLI tests: a fresh SQLite file per test, empty, initialised or with a world.

Initialised databases are built once per session through the CLI and copied for each test
(building the world costs six commands; copying a file costs nothing). The helpers
themselves (`Cli`, `build_world`, …) live in `cli_harness.py`.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from cli_harness import START, Cli, build_world, drive, hours_after
from forward import steps_to


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every command in the test's folder, so a default `xunshi.db` lands there."""
    monkeypatch.chdir(tmp_path)


def _self_contained(path: Path) -> Path:
    """Fold the write-ahead log into the file itself, so that copying the file is enough."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return path


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An initialised database and a world, built once through the CLI."""
    folder = tmp_path_factory.mktemp("templates")
    ready = Cli(folder / "ready.db")
    ready.run("init")
    world = Cli(folder / "world.db")
    build_world(world)
    _self_contained(world.path)
    rectifying = Cli(folder / "rectifying.db")
    shutil.copyfile(world.path, rectifying.path)
    drive(rectifying, "2024-R1/U01", steps_to("rectification"), hours_after(START, first=1))
    return {
        "ready": _self_contained(ready.path),
        "world": world.path,
        "rectifying": _self_contained(rectifying.path),
    }


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """`xunshi --db sqlite:///<tmp>/xunshi.db` on a database that does not exist yet."""
    return Cli(tmp_path / "xunshi.db")


@pytest.fixture
def ready(cli: Cli, _templates: dict[str, Path]) -> Cli:
    """An initialised, empty database."""
    shutil.copyfile(_templates["ready"], cli.path)
    return cli


@pytest.fixture
def world(cli: Cli, _templates: dict[str, Path]) -> Cli:
    """Round 2024-R1, group G1 (张三), units U01 and U02, case 2024-R1/U01 started 2024-09-02."""
    shutil.copyfile(_templates["world"], cli.path)
    return cli


@pytest.fixture
def rectifying(cli: Cli, _templates: dict[str, Path]) -> Cli:
    """The world with case 2024-R1/U01 in 整改 since 2024-09-03 03:00 (one event an hour
    from 2024-09-02 10:00), where problems may be added."""
    shutil.copyfile(_templates["rectifying"], cli.path)
    return cli
