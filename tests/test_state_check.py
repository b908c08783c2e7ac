"""The state database itself is checked, not just its directory (and a lost one is said).

``state_dir:writable`` only proves the directory takes a file; ``state_store:ping``
opens the database, runs ``quick_check`` and tries a write.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import pytest

from gruponos_ext.health.checks import state_dir_check
from gruponos_ext.health.model import Status
from gruponos_ext.state import StateStoreError
from gruponos_ext.state.check import CHECK_NAME, probe_state_store, state_store_check
from gruponos_ext.state.sqlite import SqliteStateStore
from tests.support.cli import CLI_BIN
from tests.support.runs import clean_env


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "state.db"


def test_a_usable_store_passes_with_what_was_checked_and_its_latency(db: Path) -> None:
    outcome = probe_state_store(SqliteStateStore(db))
    assert outcome.status is Status.PASS
    assert "quick_check ok" in outcome.message and "writable" in outcome.message
    assert outcome.observed_unit == "ms" and isinstance(outcome.observed_value, float)
    check = state_store_check(3.0)
    assert check.name == CHECK_NAME == "state_store:ping" and check.critical


def test_an_empty_database_file_is_refused_not_silently_recreated(db: Path) -> None:
    db.parent.mkdir(parents=True)
    db.touch()  # 0 bytes: what a truncating copy or a full disk leaves

    with pytest.raises(StateStoreError) as info:
        SqliteStateStore(db).recent_runs()

    assert info.value.reason == "empty" and info.value.exit_code == 1
    assert "0 bytes" in info.value.message and "lost" in info.value.message
    assert "\n" not in info.value.message
    assert db.stat().st_size == 0  # left as it was, for whoever investigates
    assert probe_state_store(SqliteStateStore(db)).status is Status.FAIL


def test_history_on_an_empty_database_says_so_in_one_line(db: Path) -> None:
    db.parent.mkdir(parents=True)
    db.touch()
    env = clean_env()
    env["GRUPONOS_INFRA_STATE_DIR"] = str(db.parent)
    done = subprocess.run(
        [str(CLI_BIN), "history"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: state database")
    assert "empty (0 bytes)" in lines[0] and "Traceback" not in done.stderr


def test_a_directory_in_place_of_the_database_fails_the_check_but_not_state_dir(db: Path) -> None:
    db.mkdir(parents=True)
    assert state_dir_check(db.parent).run().status is Status.PASS
    outcome = probe_state_store(SqliteStateStore(db))
    assert outcome.status is Status.FAIL and "is a directory" in outcome.message


def test_a_corrupt_database_fails_the_check_but_not_state_dir(db: Path) -> None:
    SqliteStateStore(db).ping()
    with db.open("r+b") as fh:  # keep the header, ruin the pages
        fh.seek(100)
        fh.write(os.urandom(4000))
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    assert state_dir_check(db.parent).run().status is Status.PASS
    outcome = probe_state_store(SqliteStateStore(db))
    assert outcome.status is Status.FAIL and str(db) in outcome.message


@pytest.mark.skipif(os.geteuid() != 0, reason="drops to another user to make the file read-only")
def test_a_read_only_database_fails_the_check_although_its_directory_is_writable() -> None:
    base = Path(tempfile.mkdtemp(prefix="gruponos-ro-"))  # pytest's tmp is closed to others
    base.chmod(0o755)
    db = base / "state" / "state.db"
    try:
        _check_read_only(db)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _check_read_only(db: Path) -> None:
    SqliteStateStore(db).ping()
    nobody = 65534
    db.parent.chmod(0o777)  # the directory takes files from anyone...
    db.chmod(0o644)  # ...but the database belongs to root
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.setgid(nobody)
            os.setuid(nobody)
            outcomes = [
                state_dir_check(db.parent).run(),
                probe_state_store(SqliteStateStore(db)),
            ]
            answer = [[o.status.value, o.message] for o in outcomes]
            os.write(write_end, json.dumps(answer).encode())
        except BaseException as exc:
            os.write(write_end, repr(exc).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        answer = pipe.read()
    assert answer.startswith("["), answer
    (dir_status, _), (store_status, message) = json.loads(answer)
    os.waitpid(child, 0)
    assert dir_status == "pass"
    assert store_status == "fail" and "readonly" in message.lower().replace("-", "")


def test_a_database_of_the_previous_schema_is_migrated_in_place(db: Path) -> None:
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    from gruponos_ext.state.sqlite.schema import MIGRATIONS

    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO locks (job, context_id, host, pid, owner_started_at, acquired_at)"
        " VALUES ('old-job', 'ctx-old', 'h', 1, 0, 0)"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()

    store = SqliteStateStore(db)
    (lock,) = store.all_locks()
    assert lock.job == "old-job" and lock.fence == 0
    from gruponos_ext.state import LockOwner

    store.break_lock("old-job")
    assert store.acquire_lock("old-job", LockOwner.current("ctx-new"), 60).lock.fence == 1
