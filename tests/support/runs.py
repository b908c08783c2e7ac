"""Fixtures for tests of guarded runs: a fake ``meltano``, process groups, CLI calls.

- ``fake_meltano``: a :class:`FakeMeltano` -- a small real executable script
  that behaves like ``meltano run JOB``: it records each call, prints lines,
  can run the job's preflight/dispose blocks the way Meltano does (children
  with one ``MELTANO_PARENT_CONTEXT_UUID``), sleeps, handles SIGTERM as told,
  can leave a grandchild in its process group, and exits with a chosen code.
  Point ``guard`` at it with ``GRUPONOS_INFRA_MELTANO_BIN`` (``.env()``).
- ``processes``: a :class:`Processes` that starts subprocesses in their own
  session and kills every process group it started at teardown, whatever the
  test did.
- ``extension_env``: an environment for ``gruponos_extension`` subprocesses,
  free of the caller's Meltano/GrupoNOS variables, with a state directory of
  the test's own and bytecode cached (``bytecode_cache_env`` of tests.support.cli).

Registered as a plugin by ``tests/conftest.py``; test modules import the
helpers from ``tests.support.runs``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import CLI_BIN, with_bytecode_cache

__all__ = [
    "FakeMeltano",
    "Processes",
    "clean_env",
    "extension_env",
    "fake_meltano",
    "group_members",
    "processes",
    "wait_until",
]


_SCRUBBED_PREFIXES = ("MELTANO_", "GRUPONOS_", "TAP_", "TARGET_", "FAKE_MELTANO_")


def wait_until(
    predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition"
) -> None:
    """Poll ``predicate`` until it is truthy; AssertionError naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group ``pgid``, read from ``/proc``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        fields = raw.rpartition(")")[2].split()  # state, ppid, pgrp, ...
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class Processes:
    """Starts subprocesses in new sessions and kills their groups at teardown."""

    def __init__(self) -> None:
        self._started: list[subprocess.Popen[str]] = []
        self._groups: set[int] = set()

    def start(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        capture: bool = True,
    ) -> subprocess.Popen[str]:
        """``argv`` as the leader of a new session (its pgid is its pid)."""
        proc = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
            stderr=subprocess.PIPE if capture else subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self._started.append(proc)
        self._groups.add(proc.pid)
        return proc

    def adopt_group(self, pgid: int) -> None:
        """Also kill process group ``pgid`` at teardown (e.g. a guard's child)."""
        self._groups.add(pgid)

    def close(self) -> None:
        for pgid in self._groups:
            _kill_group(pgid)
        for proc in self._started:
            with contextlib.suppress(Exception):
                proc.kill()
            with contextlib.suppress(Exception):
                proc.communicate(timeout=10)


@pytest.fixture
def processes() -> Iterator[Processes]:
    """A :class:`Processes`; every group it started (or adopted) is SIGKILLed at teardown."""
    registry = Processes()
    try:
        yield registry
    finally:
        registry.close()


def clean_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) without Meltano/GrupoNOS/tap/target variables."""
    env = {
        key: value
        for key, value in (os.environ if base is None else base).items()
        if not key.startswith(_SCRUBBED_PREFIXES)
    }
    env["PATH"] = os.pathsep.join([str(CLI_BIN.parent), env.get("PATH", "")])
    env["NO_COLOR"] = "1"
    return env


@pytest.fixture
def extension_env(tmp_path: Path, bytecode_cache_env: dict[str, str]) -> dict[str, str]:
    """Env for ``gruponos_extension`` subprocesses: a clean env and a state dir of its own.

    Bytecode goes to the shared cache of ``bytecode_cache_env`` (tests.support.cli).
    """
    env = with_bytecode_cache(clean_env(), bytecode_cache_env)
    env["GRUPONOS_INFRA_STATE_DIR"] = str(tmp_path / "state")
    return env


# -- the fake meltano -------------------------------------------------------------
_FAKE_MELTANO = r'''#!{python}
"""A stand-in for `meltano run JOB`, driven by plan.json in $FAKE_MELTANO_DIR."""
import json, os, signal, subprocess, sys, time, uuid
from pathlib import Path

here = Path(os.environ["FAKE_MELTANO_DIR"])
plan = json.loads((here / "plan.json").read_text())
calls = here / "calls.jsonl"
attempt = len(calls.read_text().splitlines()) if calls.exists() else 0
step = plan[min(attempt, len(plan) - 1)]
job = sys.argv[-1]
with calls.open("a") as fh:
    fh.write(json.dumps({{
        "attempt": attempt, "pid": os.getpid(), "pgid": os.getpgid(0), "argv": sys.argv[1:],
        "guard_context": os.environ.get("GRUPONOS_RUN_CONTEXT"),
    }}) + "\n")

def log(text):
    with (here / "events.log").open("a") as fh:
        fh.write(f"{{attempt}} {{text}}\n")

def on_term(signum, frame):
    log(f"signal {{signum}}")
    action = step.get("on_term", "default")
    if action == "ignore":
        return
    if action.startswith("exit:"):
        print(f"fake meltano: stopping on signal {{signum}}", flush=True)
        os._exit(int(action.split(":", 1)[1]))
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)

signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)
signal.signal(signal.SIGHUP, on_term)

if step.get("grandchild"):
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"],
        start_new_session=step["grandchild"] == "setsid",
    )
    (here / "grandchild.pid").write_text(str(child.pid))

context = str(uuid.uuid4())
block_env = dict(os.environ, MELTANO_PARENT_CONTEXT_UUID=context)
ext = os.environ.get("FAKE_MELTANO_EXTENSION", "gruponos_extension")
if step.get("blocks"):
    pre = subprocess.run([ext, "preflight", "--job", job], env=block_env)
    log(f"preflight exit {{pre.returncode}}")
    if pre.returncode != 0:
        print("fake meltano: block failed", flush=True)
        sys.exit(1)

for line in step.get("lines", []):
    print(line.format(**os.environ), flush=True)
(here / f"started-{{attempt}}").write_text(str(os.getpid()))
deadline = time.monotonic() + float(step.get("sleep", 0))
while time.monotonic() < deadline:
    time.sleep(0.02)

if step.get("blocks"):
    post = subprocess.run([ext, "dispose", "--job", job], env=block_env)
    log(f"dispose exit {{post.returncode}}")
log("done")
sys.exit(int(step.get("exit", 0)))
'''


@dataclass
class FakeMeltano:
    """The fake ``meltano`` in ``directory``; ``plan()`` says what each call does.

    Each step of the plan is a dict: ``exit`` (code), ``sleep`` (seconds),
    ``lines`` (printed; ``{VAR}`` expands environment variables), ``on_term``
    (``"default"`` dies of the signal, ``"exit:N"`` exits N, ``"ignore"``),
    ``grandchild`` (leave a sleeping process in the group; ``"setsid"``: in a
    session of its own, out of the group), ``blocks`` (run
    ``gruponos_extension preflight/dispose --job JOB`` around the work, as
    ``meltano run`` runs a job's blocks). Call ``n`` uses step ``n`` (the
    last step repeats).
    """

    directory: Path
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def bin(self) -> Path:
        return self.directory / "meltano"

    def install(self) -> FakeMeltano:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.bin.write_text(_FAKE_MELTANO.format(python=sys.executable), encoding="utf-8")
        self.bin.chmod(0o755)
        self.plan({"exit": 0})
        return self

    def plan(self, *steps: dict[str, Any]) -> FakeMeltano:
        self.steps = list(steps)
        (self.directory / "plan.json").write_text(json.dumps(self.steps), encoding="utf-8")
        return self

    def env(self) -> dict[str, str]:
        """Variables that make ``guard`` run this fake."""
        return {
            "GRUPONOS_INFRA_MELTANO_BIN": str(self.bin),
            "FAKE_MELTANO_DIR": str(self.directory),
            "FAKE_MELTANO_EXTENSION": str(CLI_BIN),
        }

    def calls(self) -> list[dict[str, Any]]:
        path = self.directory / "calls.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line]

    def events(self) -> list[str]:
        path = self.directory / "events.log"
        return path.read_text().splitlines() if path.exists() else []

    def started(self, attempt: int = 0) -> bool:
        return (self.directory / f"started-{attempt}").exists()

    def grandchild_pid(self) -> int | None:
        path = self.directory / "grandchild.pid"
        return int(path.read_text()) if path.exists() else None


@pytest.fixture
def fake_meltano(tmp_path: Path) -> FakeMeltano:
    """A :class:`FakeMeltano` in ``tmp_path/fake`` whose plan is one successful call."""
    return FakeMeltano(tmp_path / "fake").install()


def prom_samples(path: Path) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Family samples of a textfile, parsed by prometheus_client's reference parser."""
    from prometheus_client.parser import text_string_to_metric_families

    parsed: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
        for sample in family.samples:
            parsed.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return parsed
