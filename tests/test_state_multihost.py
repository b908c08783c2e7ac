"""Several hosts on one state store: simulated hosts, pid namespaces, skewed clocks.

Hosts are processes with their own host name and pid namespace (``unshare``,
see :mod:`tests.support.hosts`), each with a local state directory of its
own, all on one PostgreSQL ``state_uri``. A skewed clock is a real one:
``faketime`` (libfaketime) shifts every clock call of the worker process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gruponos_ext.state import LockOwner, ReclaimReason
from gruponos_ext.state.locks import pid_alive
from tests.support.hosts import host_command, require_unshare
from tests.support.runs import Processes, clean_env, wait_until
from tests.support.state import StoreSpec, settings_env

pytestmark = pytest.mark.timeout(300)

_PREAMBLE = """
import json, os, socket, sys, time
from pathlib import Path
def say(**fields):
    print("RESULT " + json.dumps(fields), flush=True)
def wait_for(path, timeout=120):
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            sys.exit(3)
        time.sleep(0.002)
"""

RACER = _PREAMBLE + textwrap.dedent(
    """
    sync, rounds = Path(sys.argv[1]), int(sys.argv[2])
    host = socket.gethostname()
    from gruponos_ext.config import GruponosMeltanoSettings
    from gruponos_ext.infrastructure.di_container import GruponosMeltanoContainer
    container = GruponosMeltanoContainer(GruponosMeltanoSettings.from_env())
    container.configure_for_environment()
    orchestrator = container.resolve("orchestrator")
    say(hello=host, pid=os.getpid(), ns=os.readlink("/proc/self/ns/pid"))
    for r in range(rounds):
        wait_for(sync / f"go-{r}")
        result = orchestrator.preflight(
            f"race-{r}", f"{host}-r{r}", owner_pid=os.getpid(), run_health=False
        )
        say(round=r, host=host, ok=result.success, code=result.error_code)
        (sync / f"done-{r}-{host}").touch()
    wait_for(sync / "end")
    """
)


def results(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line[7:]) for line in stdout.splitlines() if line.startswith("RESULT ")]


@pytest.fixture
def pg_spec(pg_state_uri: str, pg_schema: str) -> StoreSpec:
    return StoreSpec("postgres", uri=pg_state_uri, schema=pg_schema)


def host_env(spec: StoreSpec, state_dir: Path) -> dict[str, str]:
    env = clean_env()
    env.update(settings_env(spec, state_dir))
    env["GRUPONOS_INFRA_LOCK_TTL"] = "3600"
    return env


def test_racing_preflights_from_simulated_hosts_have_one_winner_every_round(
    pg_spec: StoreSpec, tmp_path: Path, processes: Processes
) -> None:
    require_unshare()
    hosts, rounds = 4, 15
    sync = tmp_path / "sync"
    sync.mkdir()
    racers = []
    for i in range(hosts):
        argv = [sys.executable, "-c", RACER, str(sync), str(rounds)]
        env = host_env(pg_spec, tmp_path / f"host-{i}" / "state")
        racers.append(processes.start(host_command(f"host-{i}", argv), env=env))
    try:
        for r in range(rounds):
            (sync / f"go-{r}").touch()
            wait_until(
                lambda r=r: (
                    len(list(sync.glob(f"done-{r}-*"))) == hosts
                    or any(p.poll() is not None for p in racers)
                ),
                timeout=120,
                what=f"round {r}",
            )
    finally:
        (sync / "end").touch()
    outputs = []
    for proc in racers:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outputs.append(results(out))
    hellos = [o[0] for o in outputs]
    # Each racer is a host of its own: its own name and pid namespace (pids from 1).
    assert {h["hello"] for h in hellos} == {f"host-{i}" for i in range(hosts)}
    assert len({h["ns"] for h in hellos}) == hosts
    assert os.readlink("/proc/self/ns/pid") not in {h["ns"] for h in hellos}
    assert all(h["pid"] < 10 for h in hellos)
    by_round: dict[int, list[dict[str, Any]]] = {}
    for found in outputs:
        for item in found[1:]:
            by_round.setdefault(item["round"], []).append(item)
    assert sorted(by_round) == list(range(rounds))
    for r, items in by_round.items():
        winners = [i["host"] for i in items if i["ok"]]
        assert len(winners) == 1, (r, items)
        assert {i["code"] for i in items if not i["ok"]} == {"LOCK_HELD"}


HOLDER = _PREAMBLE + textwrap.dedent(
    """
    # Fork until a process of this namespace has the pid the parent asked for:
    # a pid that means nothing (no live process) in the parent's namespace.
    target = int(sys.argv[2])
    while True:
        child = os.fork()
        if child == 0:
            if os.getpid() != target:
                os._exit(0)
            break
        os.waitpid(child, 0)
        if child >= target:
            sys.exit(0)
    sys.path.insert(0, sys.argv[3])
    from tests.support.state import StoreSpec, open_store
    from gruponos_ext.state import LockOwner
    spec = StoreSpec(**json.loads(sys.argv[1]))
    store = open_store(spec)
    acquired = store.acquire_lock("nightly", LockOwner.current("ctx-holder"), 3600)
    say(pid=os.getpid(), acquired=acquired.acquired, host=socket.gethostname())
    time.sleep(300)
    """
)


def _free_pid() -> int:
    """A pid no process has in this namespace (the holder takes it in its own)."""
    for candidate in range(300, 3000):
        if not pid_alive(candidate) and not Path(f"/proc/{candidate}").exists():
            return candidate
    raise AssertionError("no free pid below 3000")


@pytest.fixture
def any_spec(store_spec: StoreSpec) -> Iterator[StoreSpec]:
    yield store_spec


def test_same_host_name_in_another_pid_namespace_does_not_reclaim_a_live_lock(
    any_spec: StoreSpec, processes: Processes
) -> None:
    require_unshare()
    if any_spec.kind == "sqlite":
        Path(any_spec.path).parent.mkdir(parents=True, exist_ok=True)
    target = _free_pid()
    repo = str(Path(__file__).resolve().parents[1])
    argv = [sys.executable, "-c", HOLDER, json.dumps(any_spec.__dict__), str(target), repo]
    holder = processes.start(host_command(None, argv, uts=False), env=clean_env())
    assert holder.stdout is not None
    for line in holder.stdout:  # log lines may come first
        if line.startswith("RESULT "):
            break
    else:
        pytest.fail(f"the holder exited early ({holder.wait()})")
    held = json.loads(line[7:])
    assert held["acquired"] and held["pid"] == target
    assert not pid_alive(target)  # its pid is nobody here...

    store = any_spec.open()
    lock = store.current_lock("nightly")
    assert lock is not None and lock.owner.host == store.hostname == held["host"]
    assert lock.stale is None  # ...yet it is not "process_gone": it is not our namespace
    refused = store.acquire_lock("nightly", LockOwner.current("ctx-other"), 3600)
    assert not refused and refused.lock.owner.pid == target


SKEWED = _PREAMBLE + textwrap.dedent(
    """
    sys.path.insert(0, sys.argv[2])
    from tests.support.state import StoreSpec, open_store
    from gruponos_ext.state import LockOwner
    store = open_store(StoreSpec(**json.loads(sys.argv[1])))
    say(clock=time.time())
    for action in json.loads(sys.argv[3]):
        verb, job, ttl = action
        if verb == "acquire":
            got = store.acquire_lock(job, LockOwner.current(f"skewed-{job}"), ttl)
            expires = got.lock.expires_at.timestamp() if got.lock.expires_at else None
            reason = got.reclaim_reason.value if got.reclaim_reason else None
            say(job=job, acquired=got.acquired, expires=expires, reason=reason)
        elif verb == "send":
            say(job=job, sent=store.should_send(job, ttl))
    """
)


@pytest.mark.parametrize("offset", ["+1h", "-1h"])
def test_a_worker_whose_clock_is_an_hour_off_makes_the_same_decisions(
    pg_spec: StoreSpec, offset: str
) -> None:
    if shutil.which("faketime") is None:
        if os.environ.get("CI"):
            pytest.fail("faketime is missing in CI (apt-get install faketime)", pytrace=False)
        pytest.skip("faketime (libfaketime) is not installed: apt-get install faketime")
    store = pg_spec.open()
    assert store.acquire_lock("held-here", LockOwner.current("ctx-here"), 30)
    assert store.acquire_lock("short-here", LockOwner.current("ctx-short"), 1)
    assert store.should_send("alert", 3600)
    time.sleep(1.5)  # short-here's lease is over, by the server's clock
    actions = [
        ["acquire", "held-here", 30],  # live lease: refused whatever the worker's clock says
        ["acquire", "short-here", 30],  # lapsed lease: reclaimed
        ["acquire", "theirs", 30],  # a new lease ends 30 s after the server's now
        ["send", "alert", 3600],  # inside the window: suppressed
    ]
    repo = str(Path(__file__).resolve().parents[1])
    argv = [sys.executable, "-c", SKEWED, json.dumps(pg_spec.__dict__), repo, json.dumps(actions)]
    began = time.time()
    done = subprocess.run(
        ["faketime", "-f", offset, *argv],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    clock, held, short, theirs, alert = results(done.stdout)
    skew = clock["clock"] - began
    assert abs(abs(skew) - 3600) < 60, skew  # the worker's clock really is an hour off
    assert held["acquired"] is False
    assert short["acquired"] is True and short["reason"] == ReclaimReason.EXPIRED.value
    assert theirs["acquired"] is True
    assert 0 < theirs["expires"] - time.time() <= 31  # server time, not the worker's
    assert alert["sent"] is False
    lock = store.current_lock("theirs")
    assert lock is not None and lock.expires_at is not None
    assert lock.stale is not ReclaimReason.EXPIRED  # (its worker has exited: process_gone)
    assert 0 < lock.expires_at.timestamp() - time.time() <= 31
