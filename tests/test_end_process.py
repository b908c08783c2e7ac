"""``end_process``: the CLI's exit keeps what ``sys.exit`` guarantees, minus the teardown.

Each test runs a real interpreter that ends through ``end_process`` and
checks what a caller of the CLI sees: the exit status, every byte written,
the ``atexit`` handlers' work, a worker thread's last words.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def _end_with(
    code: str, tmp_path: Path, *, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    program = "from gruponos_ext.extension.runtime import end_process\n" + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", program],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize(
    ("code", "status", "stderr"),
    [
        ("None", 0, ""),
        ("0", 0, ""),
        ("3", 3, ""),
        ("125", 125, ""),
        ("'bad input'", 1, "bad input\n"),
    ],
)
def test_the_exit_status_is_the_one_sys_exit_gives(
    tmp_path: Path, code: str, status: int, stderr: str
) -> None:
    done = _end_with(f"end_process({code})", tmp_path)

    assert (done.returncode, done.stderr) == (status, stderr)


def test_everything_written_to_stdout_and_stderr_reaches_the_pipe(tmp_path: Path) -> None:
    done = _end_with(
        """
        import sys
        for i in range(20000):
            print(f"line {i}")
        sys.stderr.write("last words")
        end_process(0)
        """,
        tmp_path,
    )

    lines = done.stdout.splitlines()
    assert len(lines) == 20000 and lines[-1] == "line 19999"
    assert done.stderr == "last words"


def test_atexit_handlers_and_logging_s_flush_still_run(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    done = _end_with(
        f"""
        import atexit, logging
        handler = logging.FileHandler({str(log)!r})
        handler.setFormatter(logging.Formatter("%(message)s"))
        logging.getLogger().addHandler(handler)
        logging.getLogger().warning("logged before the end")
        atexit.register(print, "atexit handler ran")
        end_process(0)
        """,
        tmp_path,
    )

    assert done.returncode == 0
    assert done.stdout == "atexit handler ran\n"
    assert log.read_text() == "logged before the end\n"


def test_a_running_worker_thread_is_waited_for(tmp_path: Path) -> None:
    done = _end_with(
        """
        import threading, time
        def work():
            time.sleep(0.3)
            print("worker finished", flush=True)
        threading.Thread(target=work).start()
        end_process(4)
        """,
        tmp_path,
    )

    assert (done.returncode, done.stdout) == (4, "worker finished\n")


def test_a_daemon_thread_does_not_hold_the_exit(tmp_path: Path) -> None:
    done = _end_with(
        """
        import threading, time
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
        end_process(0)
        """,
        tmp_path,
        timeout=10,  # waiting for the thread would take 30 s
    )

    assert done.returncode == 0
