"""Lazy loggers: structlog is imported only when an event passes the CLI's level."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from structlog.testing import capture_logs

from gruponos_ext.core.logging import get_logger


def run_python(code: str, tmp_path: Path, **env: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env},
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_events_below_the_threshold_never_import_structlog(tmp_path: Path) -> None:
    seen = run_python(
        """
        import json, sys
        from gruponos_ext.core import logging as lazy
        calls = []
        lazy.set_threshold(30)
        lazy.on_first_use(lambda: calls.append("setup"))
        log = lazy.get_logger("t")
        log.debug("quiet", secret=1)
        log.info("quiet too")
        before = "structlog" in sys.modules
        log.warning("loud", n=1)
        log.error("louder")
        print(json.dumps({"before": before, "after": "structlog" in sys.modules,
                          "calls": calls}))
        """,
        tmp_path,
    )
    assert seen == {"before": False, "after": True, "calls": ["setup"]}


def test_a_quiet_health_run_does_not_import_structlog(tmp_path: Path) -> None:
    seen = run_python(
        """
        import atexit, json, sys
        sys.argv = ["gruponos_extension", "health", "--format", "json"]
        from gruponos_ext.extension.cli import main
        @atexit.register  # main() ends the process; its atexit handlers still run
        def report():
            print(json.dumps({"structlog": "structlog" in sys.modules,
                              "oracledb": "oracledb" in sys.modules}))
        main()
        """,
        tmp_path,
        MELTANO_PROJECT_ROOT=str(tmp_path),
    )
    assert seen == {"structlog": False, "oracledb": False}  # and exit 0 (check=True)


def test_once_structlog_is_loaded_every_event_reaches_it() -> None:
    log = get_logger("gruponos_ext.test")
    with capture_logs() as logs:
        log.debug("service_created", service="x")
        log.critical("boom")
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("service_created", "debug"),
        ("boom", "critical"),
    ]
