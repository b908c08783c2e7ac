"""Run every benchmark (see BENCHES), print the tables and a summary of the targets.

Each bench runs in a fresh process of its own (``--json``), so one bench's
threads, imports or caches never colour another's figures. The tables are
printed, then one summary of every target (figure, limit, ratio, PASS/MISS),
and everything is written to ``bench/results/latest.json``. Exit status 1 when
any target is missed or a bench fails to run.

    .venv/bin/python bench/run_all.py [--quick] [--only NAME,NAME...]   (names: see BENCHES)

``make bench`` installs the peers (the ``bench`` extra) and runs this.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results" / "latest.json"
sys.path.insert(0, str(BENCH_DIR))

import bench_container  # noqa: E402
import bench_report  # noqa: E402
import bench_startup  # noqa: E402
import bench_state  # noqa: E402
import bench_validate  # noqa: E402

BENCHES: dict[str, tuple[str, list[str], list[str]]] = {
    # name: (script, args, --quick args)
    "health": ("bench_health.py", [], ["--repeat", "1"]),
    "container": ("bench_container.py", [], ["--repeat", "3", "--validate-repeat", "1"]),
    "startup": ("bench_startup.py", [], ["--runs", "3"]),
    "state": ("bench_state.py", [], ["--rounds", "5", "--runs", "3"]),
    "validate": ("bench_validate.py", [], ["--repeat", "1", "--quick"]),
    "report": ("bench_report.py", [], ["--runs", "2000", "--health", "2000", "--repeat", "2"]),
}


def run_bench(name: str, quick: bool) -> dict[str, Any]:
    script, args, quick_args = BENCHES[name]
    argv = [sys.executable, str(BENCH_DIR / script), *(quick_args if quick else args), "--json"]
    print(f"== {name}: {' '.join(Path(a).name if a == argv[1] else a for a in argv[1:])}")
    sys.stdout.flush()
    started = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=False)
    elapsed = time.perf_counter() - started
    try:
        data: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        return {
            "error": f"exit {done.returncode}, no JSON on stdout: {done.stdout[-500:]}",
            "returncode": done.returncode,
            "elapsed_s": elapsed,
        }
    data["returncode"] = done.returncode
    data["elapsed_s"] = elapsed
    return data


# -- the health bench's results (its own output is either a table or JSON) -----------
def health_targets(data: dict[str, Any]) -> list[dict[str, Any]]:
    targets = []
    for r in data["results"]:
        if r["target_s"] is None:
            continue
        targets.append(
            {
                "name": f"{r['scenario']}: median < {r['target_s']:g} s",
                "value": r["median_s"],
                "limit": r["target_s"],
                "unit": "s",
                "ok": r["ok"],
                "detail": f"min {r['min_s']:.3f} s, max {r['max_s']:.3f} s over {r['runs']} runs"
                + ("" if r["ok"] else " (or the report was wrong)"),
            }
        )
    return targets


def render_health(data: dict[str, Any]) -> str:
    out = ["Health-check runner (median of runs)"]
    header = f"{'scenario':<40} {'median':>9} {'min':>9} {'max':>9} {'target':>8}  ok"
    out += ["", header, "-" * len(header)]
    for r in data["results"]:
        target = f"{r['target_s']:.2f} s" if r["target_s"] is not None else "-"
        out.append(
            f"{r['scenario']:<40} {r['median_s']:>7.3f} s {r['min_s']:>7.3f} s "
            f"{r['max_s']:>7.3f} s {target:>8}  {'yes' if r['ok'] else 'NO'}"
        )
    return "\n".join(out)


# -- summary ---------------------------------------------------------------------------
def _figure(t: dict[str, Any]) -> str:
    if "value" not in t:
        return "-"
    unit, value, limit = t["unit"], t["value"], t["limit"]
    if unit == "ns":
        return f"{value:,.0f} ns vs {limit:,.0f} ns (x{value / limit:.2f})"
    if unit == "s":
        return f"{value:.3f} s vs {limit:.3f} s (x{value / limit:.2f})"
    return f"{value:.2f}{unit} vs {limit:g}{unit}"


def key_figures(benches: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    container = benches.get("container", {})
    if "resolve" in container:
        rows = [r for r in container["resolve"] if r["ns_per_call"] is not None]
        for kind in ("singleton", "transient"):
            ranked = sorted((r for r in rows if r["kind"] == kind), key=lambda r: r["ns_per_call"])
            lines.append(
                f"{kind} resolve: "
                + ", ".join(
                    f"{r['library'].split(' ')[0]} {r['ns_per_call']:,.0f}"
                    + (f" ({r['variant']})" if r["variant"] else "")
                    for r in ranked
                )
                + " ns"
            )
        for v in container["validate"]:
            lines.append(
                f"validate() {v['services']:,} services: {v['seconds']:.3f} s "
                f"({v['us_per_service']:.1f} us/service)"
            )
        m = container["memory"]
        lines.append(
            f"memory, {m['services']:,} services: peak {m['peak_mib']:.1f} MiB, "
            f"retained {m['retained_after_validate_mib']:.1f} MiB"
        )
    startup = benches.get("startup", {})
    if "commands" in startup:
        peer = next(c for c in startup["commands"] if c["name"] == "dbt_extension describe")
        for c in startup["commands"]:
            if c["median_s"] is None:
                continue
            ratio = (
                f" = x{c['median_s'] / peer['median_s']:.2f} of the peer"
                if peer["median_s"]
                else ""
            )
            lines.append(
                f"{c['name']}: median {c['median_s']:.3f} s, min {c['min_s']:.3f} s{ratio}"
            )
    state = benches.get("state", {})
    for r in state.get("locks", []):
        lines.append(
            f"lock acquire, {state['racers']} racers, {r['store']}: median {r['median_ms']:.1f} ms,"
            f" p95 {r['p95_ms']:.1f} ms"
        )
    for r in state.get("processes", []):
        lines.append(
            f"whole process on {r['store']}: preflight {r['preflight_median_s']:.3f} s,"
            f" dispose {r['dispose_median_s']:.3f} s"
        )
    if "import" in state:
        lines.append(f"import psycopg: median {state['import']['psycopg_import_median_ms']:.0f} ms")
    validate = benches.get("validate", {})
    for row in validate.get("chains", []):
        lines.append(
            f"validate, {row['plugins']:,}-plugin inherit_from chain "
            f"({row['implementation']}): {row['median_s']:.3f} s "
            f"({row['us_per_plugin']:.0f} us/plugin)"
        )
    if "refusal" in validate:
        refusal = validate["refusal"]
        lines.append(
            f"validate, {refusal['bytes'] / 1e6:.0f} MB meltano.yml refused in "
            f"{refusal['median_s'] * 1e6:.0f} us (peak {refusal['peak_mib']:.2f} MiB)"
        )
    report = benches.get("report", {})
    if "median_s" in report:
        lines.append(
            f"status page, {report['runs']:,} runs + {report['health_results']:,} health results: "
            f"{report['median_s']:.3f} s, {report['page_bytes']:,} bytes"
        )
    health = benches.get("health", {})
    for r in health.get("results", []):
        lines.append(f"health runner, {r['scenario']}: median {r['median_s']:.3f} s")
    return lines


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "load_average_at_start": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument(
        "--only", default=",".join(BENCHES), help="comma-separated subset of: " + ", ".join(BENCHES)
    )
    args = parser.parse_args(argv)
    selected = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in selected if name not in BENCHES]
    if unknown:
        parser.error(f"unknown bench(es): {', '.join(unknown)}")

    info = machine()
    started = datetime.now(timezone.utc)
    benches: dict[str, dict[str, Any]] = {}
    summary: list[dict[str, Any]] = []
    renderers = {
        "health": render_health,
        "container": bench_container.render,
        "startup": bench_startup.render,
        "state": bench_state.render,
        "validate": bench_validate.render,
        "report": bench_report.render,
    }
    for name in selected:
        data = run_bench(name, args.quick)
        benches[name] = data
        if "error" in data:
            print(f"{name} bench did not run: {data['error']}\n")
            summary.append(
                {"bench": name, "name": "bench runs", "ok": False, "detail": data["error"]}
            )
            continue
        print(renderers[name](data))
        print(f"({name}: {data['elapsed_s']:.1f} s, exit {data['returncode']})\n")
        targets = health_targets(data) if name == "health" else data["targets"]
        summary += [{"bench": name, **t} for t in targets]
        if data["returncode"] != 0 and all(t["ok"] for t in targets):
            summary.append(
                {"bench": name, "name": "bench exit status", "ok": False, "detail": "non-zero"}
            )

    ok = all(t["ok"] for t in summary)
    print("=" * 78)
    load = info["load_average_at_start"]
    print(f"SUMMARY  {started:%Y-%m-%d %H:%M} UTC, {info['cpus']} CPUs ({info['cpu_model']}),")
    print(f"         Python {info['python']}, 1-min load average at start {load:.1f}")
    print("Key figures:")
    for line in key_figures(benches):
        print(f"  {line}")
    print("Targets:")
    for t in summary:
        verdict = "PASS" if t["ok"] else "MISS"
        print(f"  {verdict}  [{t['bench']}] {t['name']}: {_figure(t)}; {t.get('detail', '')}")
    print(f"Overall: {'PASS' if ok else 'MISS'} ({sum(not t['ok'] for t in summary)} missed)")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "date": started.isoformat(timespec="seconds"),
        "machine": info,
        "quick": args.quick,
        "benches": benches,
        "summary": summary,
        "key_figures": key_figures(benches),
        "ok": ok,
    }
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"Results written to {RESULTS.relative_to(BENCH_DIR.parent)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
