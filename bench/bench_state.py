"""State store figures: PostgreSQL next to SQLite, in one run (issue 11).

- **Lock acquire latency with 12 racers**: 12 processes, released together by
  a barrier each round, each calling ``acquire_lock`` on the round's job (one
  wins, eleven are refused); every call's latency, median and p95.
- **Whole-process ``preflight`` and ``dispose``**: ``gruponos_extension
  preflight --job bench`` then ``dispose --job bench`` as fresh processes, with
  the state in SQLite (``state_dir``) or in PostgreSQL (``state_uri``); medians.
- **Import cost of the driver**: ``import psycopg`` in a fresh process that has
  already imported the extension's state package (what a PostgreSQL store adds).

The PostgreSQL server is a throw-away one started here with the machine's
binaries (as the tests do), or ``--pg-uri`` / ``GRUPONOS_TEST_PG_URI``.

    .venv/bin/python bench/bench_state.py [--rounds 30] [--runs 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gruponos_ext.state import LockOwner  # noqa: E402
from tests.support.postgres import PostgresServer, start_postgres  # noqa: E402
from tests.support.state import StoreSpec, open_store  # noqa: E402

CLI = Path(sys.executable).parent / "gruponos_extension"
RACERS = 12


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _racer(spec: StoreSpec, worker: int, rounds: int, barrier: Any, out: Any) -> None:
    store = open_store(spec)
    store.ping()
    latencies = []
    for r in range(rounds):
        barrier.wait(timeout=120)
        began = time.perf_counter()
        store.acquire_lock(f"bench-{r}", LockOwner.current(f"w{worker}-r{r}"), 3600)
        latencies.append(time.perf_counter() - began)
    barrier.wait(timeout=120)
    out.put(latencies)


def lock_latency(spec: StoreSpec, rounds: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(RACERS), ctx.Queue()
    procs = [
        ctx.Process(target=_racer, args=(spec, w, rounds, barrier, out)) for w in range(RACERS)
    ]
    for proc in procs:
        proc.start()
    latencies: list[float] = []
    for _ in procs:
        latencies += out.get(timeout=300)
    for proc in procs:
        proc.join(timeout=60)
    return {
        "store": spec.kind,
        "calls": len(latencies),
        "median_ms": statistics.median(latencies) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "max_ms": max(latencies) * 1000,
    }


def process_times(env: dict[str, str], runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {"preflight": [], "dispose": []}
    for _ in range(runs + 1):  # the first pair warms caches (and creates the schema)
        pair = {}
        for command in ("preflight", "dispose"):
            began = time.perf_counter()
            done = subprocess.run(
                [str(CLI), command, "--job", "bench"], env=env, capture_output=True, check=False
            )
            pair[command] = time.perf_counter() - began
            if done.returncode != 0:
                raise SystemExit(f"{command} failed: {done.stderr.decode()[-500:]}")
        for command, took in pair.items():
            times[command].append(took)
    return {f"{c}_median_s": statistics.median(v[1:]) for c, v in times.items()}


def import_cost(runs: int) -> dict[str, float]:
    code = (
        "import time, gruponos_ext.state, gruponos_ext.state.sqlite; t = time.perf_counter(); "
        "import psycopg; print(time.perf_counter() - t)"
    )
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(runs)
    ]
    return {
        "psycopg_import_median_ms": statistics.median(samples) * 1000,
        "psycopg_import_min_ms": min(samples) * 1000,
    }


def base_env(state_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MELTANO_", "GRUPONOS_"))}
    env["GRUPONOS_INFRA_STATE_DIR"] = str(state_dir)
    return env


def run(rounds: int, runs: int, pg_uri: str | None) -> dict[str, Any]:
    server: PostgresServer | None = None
    if pg_uri is None:
        server = start_postgres()
        pg_uri = server.uri
    work = Path(tempfile.mkdtemp(prefix="gruponos-bench-state-"))
    try:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        specs = [
            StoreSpec("sqlite", path=str(work / "race" / "state.db")),
            StoreSpec("postgres", uri=pg_uri, schema=schema),
        ]
        locks = [lock_latency(spec, rounds) for spec in specs]
        sqlite_env = base_env(work / "sqlite-state")
        pg_env = base_env(work / "pg-state")
        pg_env.update(GRUPONOS_INFRA_STATE_URI=pg_uri, GRUPONOS_INFRA_STATE_SCHEMA=schema + "_p")
        processes = [
            {"store": "sqlite", **process_times(sqlite_env, runs)},
            {"store": "postgres", **process_times(pg_env, runs)},
        ]
        return {
            "racers": RACERS,
            "rounds": rounds,
            "runs": runs,
            "locks": locks,
            "processes": processes,
            "import": import_cost(runs),
            "targets": [],
        }
    finally:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
        if server is not None:
            server.remove()


def render(data: dict[str, Any]) -> str:
    out = [f"State stores: lock acquire with {data['racers']} racers ({data['rounds']} rounds)"]
    header = f"{'store':<10} {'calls':>6} {'median':>10} {'p95':>10} {'max':>10}"
    out += ["", header, "-" * len(header)]
    for r in data["locks"]:
        out.append(
            f"{r['store']:<10} {r['calls']:>6} {r['median_ms']:>7.2f} ms {r['p95_ms']:>7.2f} ms "
            f"{r['max_ms']:>7.2f} ms"
        )
    out += ["", f"Whole process, median of {data['runs']} runs", ""]
    header = f"{'store':<10} {'preflight':>10} {'dispose':>10}"
    out += [header, "-" * len(header)]
    for r in data["processes"]:
        out.append(
            f"{r['store']:<10} {r['preflight_median_s']:>8.3f} s {r['dispose_median_s']:>8.3f} s"
        )
    imp = data["import"]
    out += [
        "",
        f"import psycopg (after the state package): median {imp['psycopg_import_median_ms']:.1f}"
        f" ms, min {imp['psycopg_import_min_ms']:.1f} ms",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=30, help="lock rounds of 12 racers")
    parser.add_argument("--runs", type=int, default=10, help="preflight/dispose pairs, imports")
    parser.add_argument("--pg-uri", default=os.environ.get("GRUPONOS_TEST_PG_URI"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from gruponos_ext.extension.logs import configure_logging

    configure_logging()  # LOG_LEVEL (default warning), to stderr: stdout is the result
    data = run(args.rounds, args.runs, args.pg_uri)
    print(json.dumps(data, indent=2) if args.json else render(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
