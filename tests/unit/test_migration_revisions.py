"""The light revision names agree with Alembic's scripts, and nothing light imports Alembic."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

from alembic.script import ScriptDirectory

from xunshi.storage import migrations
from xunshi.storage.migrate import MIGRATIONS, Revision, config, history

REPO = Path(__file__).resolve().parents[2]


def test_head_and_revisions_are_the_script_directory() -> None:
    scripts = ScriptDirectory.from_config(config())

    assert scripts.get_current_head() == migrations.HEAD
    walked = [script.revision for script in scripts.walk_revisions()]  # newest first
    assert tuple(reversed(walked)) == migrations.REVISIONS


def test_history_is_a_line_oldest_first() -> None:
    assert history() == [
        Revision(
            "0001", None, "Baseline: the schema as xunshi 0.1.0 created it (schema_info version 1)."
        ),
        Revision(
            "0002", "0001", "Drop schema_info: the revision lives in Alembic's alembic_version now."
        ),
        Revision(
            "0003",
            "0002",
            "Calendar loads keep their mode, ordinary days, titles and resulting year.",
        ),
        Revision("0004", "0003", "Round plans: batches with planned dates, and round-wide events."),
        Revision(
            "0005",
            "0004",
            "Instances can be void (撤销): withdrawn, kept in history and audit.",
        ),
        Revision(
            "0006",
            "0005",
            "Escalations record their instrument and recipient, and a decision rung's fate.",
        ),
        Revision(
            "0007",
            "0006",
            "问题线索: the clue table and its links to the problems (items) it gave rise to.",
        ),
        Revision("0008", "0007", "A case may follow an earlier case of its unit (回头看)."),
        Revision(
            "0009",
            "0008",
            "Extension requests (延期申请) of tasks and the office's decisions.",
        ),
        Revision(
            "0010",
            "0009",
            "Outcomes of rectification (整改成果) and problems found again (屡改屡犯).",
        ),
        Revision(
            "0011",
            "0010",
            "Business-domain tags, thematic reports (专题) and computed common problems.",
        ),
        Revision(
            "0012",
            "0011",
            "People of the web desk: users, their API tokens, the cookie key.",
        ),
        Revision(
            "0013", "0012", "Request ids: each write transaction of a command kept with its writes."
        ),
    ]


def test_every_version_file_is_named_after_its_revision() -> None:
    files = sorted(path.name for path in (MIGRATIONS / "versions").glob("*.py"))

    assert [name[:4] for name in files] == list(migrations.REVISIONS)


def test_migrations_ship_as_package_data() -> None:
    # An installed xunshi (not only `pip install -e .`) needs the scripts and the template.
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]["package-data"]["xunshi"]
    package = REPO / "xunshi"
    shipped = [
        path.relative_to(package).as_posix()
        for path in MIGRATIONS.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        # Modules of the package itself ship anyway; versions/ is not a package.
        and not (path.suffix == ".py" and (path.parent / "__init__.py").exists())
    ]

    assert shipped
    assert [p for p in shipped if not any(fnmatch(p, pattern) for pattern in patterns)] == []


def test_the_schema_check_does_not_import_alembic() -> None:
    # Every command checks the revision; only `init` (and the future `db` commands) migrate.
    code = (
        "import sys; from xunshi.cli import main\n"
        "import xunshi.bootstrap, xunshi.storage.db, xunshi.storage.migrate\n"
        "print('alembic' in sys.modules, 'mako' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout

    assert out.split() == ["False", "False"]
