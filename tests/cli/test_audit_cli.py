"""`xunshi audit verify | seal | export`: the hash-chained history (DESIGN §6, §7)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from cli_harness import HEX64, KEY, Cli, drive, hours_after, start_case

EXPORT_COLUMNS = [
    "instance",
    "label",
    "seq",
    "kind",
    "trigger",
    "from",
    "to",
    "actor",
    "role",
    "reason",
    "data",
    "occurred_at",
    "recorded_at",
    "prev_hash",
    "hash",
]
GENESIS = "0" * 64


def two_cases(world: Cli) -> Cli:
    """The world's case moved one stage on (4 events) and a second case (1 event)."""
    drive(world, KEY, 1, hours_after("2024-09-02T09:00"))
    start_case(world, "U02")
    return world


def seal(cli: Cli) -> str:
    digest = cli.out("audit", "seal").rstrip("\n")
    assert HEX64.fullmatch(digest), digest
    return digest


# -- verify ---------------------------------------------------------------------------------------


def test_verify(world: Cli) -> None:
    two_cases(world)

    assert world.out("audit", "verify") == "OK: 2 chains, 5 events verified\n"


def test_verify_json(world: Cli) -> None:
    two_cases(world)

    assert world.json("audit", "verify") == {"ok": True, "chains": 2, "events": 5, "problems": []}


def test_verify_and_seal_with_a_number_of_workers(world: Cli) -> None:
    two_cases(world)

    for workers in ("1", "3"):
        assert world.out("audit", "verify", "--workers", workers) == (
            "OK: 2 chains, 5 events verified\n"
        )
    assert world.out("audit", "seal", "--workers", "2").rstrip("\n") == seal(world)


def test_verify_needs_at_least_one_worker(world: Cli) -> None:
    assert world.usage("audit", "verify", "--workers", "0") == (
        "Error: Invalid value for '--workers': must be at least 1"
    )
    assert world.usage("audit", "seal", "--workers", "two") == (
        "Error: Invalid value for '--workers': 'two' is not a whole number"
    )


def test_verify_an_empty_history(ready: Cli) -> None:
    assert ready.out("audit", "verify") == "OK: 0 chains, 0 events verified\n"


def test_verify_counts_in_good_english(world: Cli) -> None:
    # "OK: 1 chains, 1 events verified"
    assert world.out("audit", "verify") == "OK: 1 chain, 1 event verified\n"


def test_verify_finds_an_altered_event(world: Cli) -> None:
    two_cases(world)
    world.sql("UPDATE event SET actor = '王五' WHERE instance_id = 1 AND seq = 2")

    result = world.run("audit", "verify", code=1)

    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "case 2024-R1/U01 seq 2: hash mismatch: the stored event was altered"
    assert len(lines) == 2
    assert lines[-1].startswith("Error: audit failed: 1 problem")


def test_verify_names_every_broken_event(world: Cli) -> None:
    two_cases(world)
    world.sql("UPDATE event SET reason = '补记' WHERE instance_id = 1 AND seq = 4")
    world.sql("UPDATE event SET role = 'group_leader' WHERE instance_id = 2")
    world.sql("UPDATE instance SET state = 'closed' WHERE id = 1")

    result = world.run("audit", "verify", code=1)

    assert result.stderr.splitlines()[:-1] == [
        "case 2024-R1/U01 seq 4: hash mismatch: the stored event was altered",
        "case 2024-R1/U01 seq 4: row says state = 'closed', history replays to 'onsite'",
        "case 2024-R1/U02 seq 1: hash mismatch: the stored event was altered",
    ]
    assert result.stderr.splitlines()[-1].startswith("Error: audit failed: 3 problem")


def test_verify_finds_a_deleted_event(world: Cli) -> None:
    two_cases(world)
    world.sql("DELETE FROM event WHERE instance_id = 1 AND seq = 2")

    result = world.run("audit", "verify", code=1)

    assert result.stderr.splitlines()[0] == (
        "case 2024-R1/U01 seq 2: event seq 2 missing (seq 3 follows)"
    )


def test_verify_json_with_problems(world: Cli) -> None:
    two_cases(world)
    world.sql("UPDATE event SET actor = '王五' WHERE instance_id = 1 AND seq = 2")

    result = world.run("--json", "audit", "verify", code=1)

    assert json.loads(result.stdout) == {
        "ok": False,
        "chains": 2,
        "events": 5,
        "problems": [
            {
                "instance": 1,
                "label": "case 2024-R1/U01",
                "seq": 2,
                "reason": "hash mismatch: the stored event was altered",
            }
        ],
    }
    assert result.stderr.startswith("Error: audit failed: 1 problem")
    assert len(result.stderr.splitlines()) == 1


# -- seal ------------------------------------------------------------------------------------------


def test_seal_and_verify_against_it(world: Cli) -> None:
    two_cases(world)
    digest = seal(world)

    assert world.out("audit", "verify", "--seal", digest) == (
        "OK: 2 chains, 5 events verified and match the seal\n"
    )
    assert world.out("audit", "verify", "--seal", f" {digest.upper()} ").endswith(
        "and match the seal\n"
    )


def test_seal_twice_gives_the_same_digest(world: Cli) -> None:
    assert seal(world) == seal(world)


def test_seal_changes_with_the_history(world: Cli) -> None:
    first = seal(world)
    start_case(world, "U02")

    assert seal(world) != first
    assert world.out("audit", "verify", "--seal", first).endswith("and match the seal\n")


def test_seal_json(world: Cli) -> None:
    sealed = world.json("audit", "seal")

    assert set(sealed) == {"digest", "chains", "events", "created_at"}
    assert (sealed["chains"], sealed["events"]) == (1, 1)
    assert HEX64.fullmatch(sealed["digest"])


def test_seal_detects_a_deleted_tail(world: Cli) -> None:
    two_cases(world)
    before_last = world.sql("SELECT * FROM instance WHERE id = 2")
    columns = [row[1] for row in world.sql("PRAGMA table_info(instance)")]
    office = ("--actor", "张三", "--role", "office")
    world.run("case", "milestone", "2024-R1/U02", "briefings_received", *office)
    digest = seal(world)
    # Whoever deletes the last event and puts the row back the way it was leaves a history
    # that verifies on its own; only the seal can tell.
    world.sql("DELETE FROM event WHERE instance_id = 2 AND seq = 2")
    assignments = ", ".join(f'"{c}" = ?' for c in columns)
    world.sql(f"UPDATE instance SET {assignments} WHERE id = 2", before_last[0])
    assert world.out("audit", "verify") == "OK: 2 chains, 5 events verified\n"

    result = world.run("audit", "verify", "--seal", digest, code=1)

    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "case 2024-R1/U02 seq 2: sealed event missing: deleted after the seal"
    assert lines[-1].startswith("Error: audit failed: 1 problem")
    assert len(lines) == 2


def test_verify_against_an_unknown_seal(world: Cli) -> None:
    digest = "ab" * 32

    assert world.fail("audit", "verify", "--seal", digest) == (
        f"no seal {digest} in this database (was it deleted?)"
    )


def test_verify_against_something_that_is_not_a_digest(world: Cli) -> None:
    message = world.fail("audit", "verify", "--seal", "1234")

    assert "1234" in message


def test_seal_refuses_a_broken_history(world: Cli) -> None:
    world.sql("UPDATE event SET actor = '王五' WHERE instance_id = 1 AND seq = 1")

    message = world.fail("audit", "seal")

    assert message.startswith("history has 1 problem")
    assert message.endswith("; not sealing it (see `xunshi audit verify`)")
    assert world.sql("SELECT COUNT(*) FROM seal") == [(0,)]


# -- export ----------------------------------------------------------------------------------------


def check_records(records: list[dict[str, Any]]) -> None:
    assert [(r["label"], r["seq"], r["kind"]) for r in records] == [
        ("case 2024-R1/U01", 1, "started"),
        ("case 2024-R1/U01", 2, "milestone"),
        ("case 2024-R1/U01", 3, "milestone"),
        ("case 2024-R1/U01", 4, "transition"),
        ("case 2024-R1/U02", 1, "started"),
    ]
    assert records[0]["prev_hash"] == GENESIS
    assert records[1]["prev_hash"] == records[0]["hash"]
    assert records[3]["occurred_at"] == "2024-09-03T11:00:00+08:00"  # 03:00 UTC


def test_export_jsonl_to_stdout(world: Cli) -> None:
    two_cases(world)
    history = world.json("case", "history", KEY)

    text = world.out("audit", "export")

    assert world.out("audit", "export", "--format", "jsonl") == text
    records = [json.loads(line) for line in text.splitlines()]
    assert all(list(r) == EXPORT_COLUMNS for r in records)
    check_records(records)
    assert [r["hash"] for r in records[:4]] == [e["hash"] for e in history]
    assert records[1]["data"] == {"milestone": "briefings_received"}


def test_export_csv_to_stdout(world: Cli) -> None:
    two_cases(world)

    text = world.out("audit", "export", "--format", "csv")

    assert not text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == EXPORT_COLUMNS
    check_records([{**r, "seq": int(r["seq"])} for r in rows])
    assert json.loads(rows[1]["data"]) == {"milestone": "briefings_received"}


def test_export_times_carry_the_business_offset(world: Cli, tmp_path: Path) -> None:
    # Issue #8, defect 15: the business time zone with its offset, never UTC `Z`.
    two_cases(world)
    shanghai = {"XUNSHI_TZ": "Asia/Shanghai"}
    world.run("audit", "export", "--out", str(tmp_path / "h.jsonl"), env=shanghai)
    world.run("audit", "export", "--out", str(tmp_path / "h.csv"), env=shanghai)

    lines = (tmp_path / "h.jsonl").read_text(encoding="utf-8").splitlines()
    from_jsonl = [json.loads(line) for line in lines]
    from_csv = list(csv.DictReader(io.StringIO((tmp_path / "h.csv").read_text("utf-8-sig"))))
    for records in (from_jsonl, from_csv):
        times = [r[column] for r in records for column in ("occurred_at", "recorded_at")]
        assert len(times) == 10
        assert all(t.endswith("+08:00") and not t.endswith("Z") for t in times), times
        assert records[0]["occurred_at"] == "2024-09-02T09:00:00+08:00"
    in_utc = world.out("audit", "export", env={"XUNSHI_TZ": "UTC"}).splitlines()
    assert json.loads(in_utc[0])["occurred_at"] == "2024-09-02T01:00:00+00:00"
    assert world.out("audit", "verify", env=shanghai) == world.out("audit", "verify")


def test_export_csv_to_a_file_starts_with_a_bom(world: Cli, tmp_path: Path) -> None:
    two_cases(world)
    out = tmp_path / "history.csv"

    result = world.run("audit", "export", "--format", "csv", "--out", str(out))

    assert result.stdout == ""
    assert result.stderr == f"Exported 5 events to {out}\n"
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfinstance,label,seq,")
    stdout = world.run("audit", "export", "--format", "csv").stdout_bytes
    assert data == b"\xef\xbb\xbf" + stdout


def test_export_jsonl_to_a_file(world: Cli, tmp_path: Path) -> None:
    two_cases(world)
    out = tmp_path / "history.jsonl"

    result = world.run("audit", "export", "--out", str(out))

    assert result.stderr == f"Exported 5 events to {out}\n"
    assert out.read_bytes().decode("utf-8") == world.out("audit", "export")


def test_export_with_json_is_quiet(world: Cli, tmp_path: Path) -> None:
    out = tmp_path / "history.jsonl"

    result = world.run("--json", "audit", "export", "--out", str(out))

    assert (result.stdout, result.stderr) == ("", "")
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1


def test_export_an_empty_history(ready: Cli) -> None:
    assert ready.out("audit", "export") == ""
    csv_bytes = ready.run("audit", "export", "--format", "csv").stdout_bytes
    assert csv_bytes == (",".join(EXPORT_COLUMNS) + "\r\n").encode()


def test_export_to_a_folder_that_does_not_exist(world: Cli, tmp_path: Path) -> None:
    out = tmp_path / "nope" / "history.csv"

    # Like `definitions load` says "PATH: no such file", not "[Errno 2] No such file or …".
    assert world.fail("audit", "export", "--format", "csv", "--out", str(out)) == (
        f"{out}: No such file or directory"
    )


def test_export_unknown_format(world: Cli) -> None:
    assert world.usage("audit", "export", "--format", "xml") == (
        "Error: Invalid value for '--format': 'xml' is not one of 'jsonl', 'csv'."
    )


def test_export_takes_the_format_from_the_file_name(world: Cli, tmp_path: Path) -> None:
    two_cases(world)
    jsonl = world.out("audit", "export")
    csv_bytes = world.run("audit", "export", "--format", "csv").stdout_bytes

    world.run("audit", "export", "--out", "history.csv")
    world.run("audit", "export", "--out", "history.json")

    assert (tmp_path / "history.csv").read_bytes() == b"\xef\xbb\xbf" + csv_bytes
    assert (tmp_path / "history.json").read_text(encoding="utf-8") == jsonl
    assert world.out("audit", "export", "--out", "-") == jsonl
    assert world.run("audit", "export", "--format", "csv", "--out", "-").stdout_bytes == csv_bytes


def test_export_refuses_a_name_that_says_no_format_or_another_one(
    world: Cli, tmp_path: Path
) -> None:
    assert world.fail("audit", "export", "--out", "history.txt") == (
        "cannot tell the format of history.txt from its extension: name it .jsonl, .json or "
        ".csv, or give --format jsonl|csv"
    )
    assert world.fail("audit", "export", "--format", "csv", "--out", "history.jsonl") == (
        "--format csv but history.jsonl ends in .jsonl"
    )
    assert not (tmp_path / "history.txt").exists()
    assert not (tmp_path / "history.jsonl").exists()


def test_export_keeps_an_existing_file_unless_force(world: Cli, tmp_path: Path) -> None:
    out = tmp_path / "history.jsonl"
    out.write_text("last year's archive\n", encoding="utf-8")

    assert world.fail("audit", "export", "--out", str(out)) == (
        f"{out} exists; use --force to overwrite it"
    )
    assert out.read_text(encoding="utf-8") == "last year's archive\n"

    result = world.run("audit", "export", "--out", str(out), "--force")

    assert result.stderr == f"Exported 1 events to {out}\n"
    assert out.read_text(encoding="utf-8") == world.out("audit", "export")
