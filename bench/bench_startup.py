"""Benchmark whole-process startup of the CLI against a peer EDK extension (issue 4, "Startup").

Side by side in one run:

- ``gruponos_extension describe`` vs ``dbt_extension describe`` (meltano-dbt-ext,
  a peer Meltano EDK extension); target: ours <= 1/3 of the peer;
- ``gruponos_extension health`` on the bundled project vs ``dbt_extension
  describe``; target: ours <= the peer;
- ``gruponos_extension validate`` on the bundled project (shown, no target).

Each side runs from a fresh virtualenv of its own, shaped like the one Meltano
builds for a plugin: ours gets ``pip install <this checkout>`` (NOT editable:
runtime dependencies only, no meltano, no test tools), the peer gets
``pip install meltano-dbt-ext``; neither pays for packages the other does not
have. Both are byte-compiled at install, as pip does. The environment is the one
Meltano gives a plugin: ``MELTANO_PROJECT_ROOT`` (this checkout),
``MELTANO_SYS_DIR_ROOT`` (a temporary directory), ``MELTANO_DATABASE_URI`` (a
SQLite file created there) and ``DBT_EXT_TYPE=postgres`` (without it the peer
refuses to start). Every command is checked (exit 0, expected output) in 2
warm-ups, then run ``--runs`` times round-robin; median and min are reported.

Also reported: ``python -X importtime`` of ``describe`` and ``health`` (our
top imports, so a regression shows), and which heavy modules each command
loads (``describe`` and ``validate`` must not import ``oracledb``), read from
``sys.modules`` at exit of the same console-script entry point.

Exit status 1 when a target is missed (everything is printed first).

    .venv/bin/python bench/bench_startup.py [--runs N] [--venv-dir DIR] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
OURS_DIST = "gruponos-infra"
PEER_DIST = "meltano-dbt-ext"
WARMUPS = 2
# Modules whose presence at exit says a command paid for something heavy.
HEAVY_MODULES = (
    "oracledb",
    "cryptography",
    "pydantic",
    "yaml",
    "sqlite3",
    "smtplib",
    "ssl",
    "http.client",
    "urllib.request",
    "asyncio",
    "concurrent.futures",
    "meltano.edk",
    "rich",
    "typer",
)
MUST_NOT_IMPORT = {"describe": ("oracledb",), "validate": ("oracledb",)}

# Runs a console script as its own process would, then dumps sys.modules to a file.
_MODULES_PROBE = """
import atexit, json, os, runpy, sys
script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(script)  # as when the script runs itself: not the cwd
@atexit.register  # runs however the script ends (ours ends through end_process)
def dump():
    with open(os.environ["BENCH_MODULES_OUT"], "w") as fh:
        json.dump(sorted(sys.modules), fh)
runpy.run_path(script, run_name="__main__")
"""


@dataclass
class Command:
    name: str
    argv: list[str]
    expect_in_output: str
    times_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    returncodes: list[int] = field(default_factory=list)
    error: str | None = None

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.times_s) if self.times_s else None

    @property
    def median_cpu_s(self) -> float | None:
        """Median user + sys time of the whole process (steadier than wall time under load)."""
        return statistics.median(self.cpu_s) if self.cpu_s else None

    @property
    def min_s(self) -> float | None:
        return min(self.times_s) if self.times_s else None


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


def _run_quiet(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout}{done.stderr}")


def make_venv(venv: Path, requirement: str, *, reinstall: str | None = None) -> str:
    """Create ``venv`` if needed and install ``requirement`` into it; return the tool used."""
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    python = _bin(venv, "python")
    if uv:
        if not python.exists():
            _run_quiet([uv, "venv", "-q", "--python", sys.executable, str(venv)])
        argv = [uv, "pip", "install", "-q", "--compile-bytecode", "--python", str(python)]
        if reinstall:  # a local source tree: rebuild it, never reuse a cached wheel
            argv += ["--reinstall-package", reinstall, "--refresh-package", reinstall]
        _run_quiet([*argv, requirement])
        return "uv pip install --compile-bytecode"
    if not python.exists():
        _run_quiet([sys.executable, "-m", "venv", str(venv)])
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _run_quiet([*pip, requirement])
    if reinstall:
        _run_quiet([*pip, "--force-reinstall", "--no-deps", requirement])
    return "pip install"


def _distributions(venv: Path) -> list[str]:
    code = (
        "import importlib.metadata as m, json; "
        "print(json.dumps(sorted({d.metadata['Name'] + '==' + d.version "
        "for d in m.distributions()}, key=str.lower)))"
    )
    done = subprocess.run(
        [str(_bin(venv, "python")), "-c", code],
        cwd=venv,
        capture_output=True,
        text=True,
        check=True,
    )
    return list(json.loads(done.stdout))


def _installed_matches_checkout(venv: Path) -> str | None:
    """Why the installed package differs from this checkout, or None when it matches."""
    code = "import gruponos_ext, os; print(os.path.dirname(gruponos_ext.__file__))"
    done = subprocess.run(
        [str(_bin(venv, "python")), "-c", code],
        cwd=venv,  # not the checkout: `-c` puts the cwd on sys.path
        capture_output=True,
        text=True,
        check=True,
    )
    installed = Path(done.stdout.strip())
    if installed.resolve().is_relative_to(REPO_ROOT):
        return f"gruponos_ext is imported from the checkout ({installed}), not installed"
    source = REPO_ROOT / "gruponos_ext"
    for path in sorted(source.rglob("*.py")):
        copy = installed / path.relative_to(source)
        if not copy.exists():
            return f"{copy} is missing from the installed package"
        if hashlib.sha256(copy.read_bytes()).digest() != hashlib.sha256(path.read_bytes()).digest():
            return f"{copy} differs from the checkout (stale build?)"
    return None


def _meltano_env(tmp: Path) -> dict[str, str]:
    """What Meltano exports to a plugin, on a clean copy of our environment."""
    sys_dir = tmp / "sys"
    sys_dir.mkdir(exist_ok=True)
    database = sys_dir / "meltano.db"
    with sqlite3.connect(database) as conn:  # what `meltano install` leaves: a non-empty db
        conn.execute("CREATE TABLE IF NOT EXISTS bench (id INTEGER PRIMARY KEY)")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GRUPONOS_", "MELTANO_", "DBT_", "VIRTUAL_ENV", "PYTHON"))
    }
    env.update(
        MELTANO_PROJECT_ROOT=str(REPO_ROOT),
        MELTANO_SYS_DIR_ROOT=str(sys_dir),
        MELTANO_DATABASE_URI=f"sqlite:///{database}",
        DBT_EXT_TYPE="postgres",
        LOG_LEVEL="warning",
    )
    return env


def _children_cpu_s() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_once(
    argv: list[str], env: dict[str, str], *, capture: bool
) -> tuple[float, float, int, str]:
    """Wall time, CPU time (user + sys), exit code and output of one run."""
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    cpu_before = _children_cpu_s()
    started = time.perf_counter()
    done = subprocess.run(
        argv, env=env, cwd=REPO_ROOT, stdout=output, stderr=output, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    cpu = _children_cpu_s() - cpu_before
    return elapsed, cpu, done.returncode, (done.stdout or "") + (done.stderr or "")


def time_commands(commands: list[Command], env: dict[str, str], runs: int) -> None:
    for command in commands:
        for _ in range(WARMUPS):
            _, _, rc, output = _run_once(command.argv, env, capture=True)
            if rc != 0 or command.expect_in_output not in output:
                command.error = f"exit {rc}, output: {output.strip()[-400:]}"
    for _ in range(runs):  # round-robin: load changes hit every command alike
        for command in commands:
            if command.error:
                continue
            elapsed, cpu, rc, _ = _run_once(command.argv, env, capture=False)
            command.times_s.append(elapsed)
            command.cpu_s.append(cpu)
            command.returncodes.append(rc)
    for command in commands:
        if any(rc != 0 for rc in command.returncodes):
            command.error = f"exit codes {sorted(set(command.returncodes))}"


def importtime(python: Path, script: Path, args: list[str], env: dict[str, str], tries: int) -> Any:
    """``-X importtime`` of a command: the quietest of ``tries`` runs, parsed."""
    best: dict[str, Any] | None = None
    for _ in range(tries):
        done = subprocess.run(
            [str(python), "-X", "importtime", str(script), *args],
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        rows = []  # (name, self us, cumulative us, depth)
        for line in done.stderr.splitlines():
            # "import time:       157 |       1456 |   json": one space, then 2 per level
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            head, cumulative_us, name = line.split("|", 2)
            depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
            rows.append((name.strip(), int(head.split(":")[1]), int(cumulative_us), depth))
        total = sum(r[1] for r in rows) / 1000
        if best is None or total < best["total_ms"]:
            best = {"total_ms": total, "modules": len(rows), "rows": rows}
    assert best is not None
    rows = best.pop("rows")
    best["top_level_by_cumulative_ms"] = [
        [name, cum / 1000]
        for name, _s, cum, depth in sorted(rows, key=lambda r: -r[2])
        if depth == 0
    ][:10]
    best["top_by_self_ms"] = [
        [name, s / 1000] for name, s, _c, _d in sorted(rows, key=lambda r: -r[1])
    ][:10]
    return best


def loaded_modules(
    python: Path, script: Path, args: list[str], env: dict[str, str], tmp: Path
) -> list[str]:
    out = tmp / "modules.json"
    subprocess.run(
        [str(python), "-c", _MODULES_PROBE, str(script), *args],
        env={**env, "BENCH_MODULES_OUT": str(out)},
        cwd=REPO_ROOT,
        capture_output=True,
        check=False,
    )
    return list(json.loads(out.read_text()))


def _heavy(modules: list[str]) -> list[str]:
    present = set(modules)
    return [m for m in HEAVY_MODULES if m in present]


def run(runs: int, venv_dir: Path | None) -> dict[str, Any]:
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gruponos-bench-startup-") as tmp_name:
        tmp = Path(tmp_name)
        venvs = venv_dir or tmp
        ours_venv, peer_venv = venvs / "plugin-gruponos-infra", venvs / "plugin-dbt-ext"
        started = time.perf_counter()
        make_venv(peer_venv, PEER_DIST)
        for _attempt in range(2):  # once more if the checkout changed while installing
            tool = make_venv(ours_venv, str(REPO_ROOT), reinstall=OURS_DIST)
            stale = _installed_matches_checkout(ours_venv)
            if not stale:
                break
        else:
            raise SystemExit(f"bench_startup: {stale}")
        setup_s = time.perf_counter() - started
        ours_packages, peer_packages = _distributions(ours_venv), _distributions(peer_venv)
        ours_names = {p.split("==")[0].lower() for p in ours_packages}
        for unwanted in ("meltano", "rich", "pytest"):
            if unwanted in ours_names:
                notes.append(f"our plugin venv has {unwanted!r}: it should not")
        env = _meltano_env(tmp)

        ours_script = _bin(ours_venv, "gruponos_extension")
        peer_script = _bin(peer_venv, "dbt_extension")
        commands = [
            Command("gruponos_extension describe", [str(ours_script), "describe"], "health"),
            Command("dbt_extension describe", [str(peer_script), "describe"], "Describe("),
            Command("gruponos_extension health", [str(ours_script), "health"], "PASS"),
            Command("gruponos_extension validate", [str(ours_script), "validate"], "passed"),
        ]
        time_commands(commands, env, runs)

        ours_py, peer_py = _bin(ours_venv, "python"), _bin(peer_venv, "python")
        imports = {  # health too: it has the tighter target
            f"gruponos_extension {cmd}": importtime(ours_py, ours_script, [cmd], env, 5)
            for cmd in ("describe", "health")
        }
        imports["dbt_extension describe"] = importtime(peer_py, peer_script, ["describe"], env, 5)
        modules = {
            f"gruponos_extension {cmd}": loaded_modules(ours_py, ours_script, [cmd], env, tmp)
            for cmd in ("describe", "validate", "health")
        }
        modules["dbt_extension describe"] = loaded_modules(
            peer_py, peer_script, ["describe"], env, tmp
        )

    by_name = {c.name: c for c in commands}
    targets = judge(by_name, modules)
    return {
        "bench": "startup",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "runs": runs,
        "warmups": WARMUPS,
        "venvs": {
            "installer": tool,
            "setup_s": setup_s,
            "location": str(venv_dir) if venv_dir else "temporary (deleted after the run)",
            "gruponos_extension": ours_packages,
            "dbt_extension": peer_packages,
        },
        "commands": [
            {
                "name": c.name,
                "argv": [Path(c.argv[0]).name, *c.argv[1:]],
                "median_s": c.median_s,
                "median_cpu_s": c.median_cpu_s,
                "min_s": c.min_s,
                "max_s": max(c.times_s) if c.times_s else None,
                "times_s": c.times_s,
                "error": c.error,
            }
            for c in commands
        ],
        "importtime": imports,
        "heavy_modules": {
            name: {"count": len(mods), "heavy": _heavy(mods)} for name, mods in modules.items()
        },
        "targets": targets,
        "notes": notes,
        "ok": all(t["ok"] for t in targets),
    }


def judge(commands: dict[str, Command], modules: dict[str, list[str]]) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []
    peer = commands["dbt_extension describe"]
    for ours_name, factor, label in (
        ("gruponos_extension describe", 1 / 3, "<= 1/3 of"),
        ("gruponos_extension health", 1.0, "<="),
    ):
        ours = commands[ours_name]
        name = f"{ours_name} {label} dbt_extension describe (median)"
        if ours.median_s is None or peer.median_s is None:
            detail = "; ".join(f"{c.name}: {c.error}" for c in (ours, peer) if c.error)
            targets.append({"name": name, "ok": False, "detail": f"not measured: {detail}"})
            continue
        limit = peer.median_s * factor
        targets.append(
            {
                "name": name,
                "value": ours.median_s,
                "limit": limit,
                "unit": "s",
                "ok": ours.median_s <= limit and not ours.error,
                "detail": f"ours / peer = {ours.median_s / peer.median_s:.2f}",
            }
        )
    for command, forbidden in MUST_NOT_IMPORT.items():
        loaded = set(modules[f"gruponos_extension {command}"])
        found = [m for m in forbidden if m in loaded]
        targets.append(
            {
                "name": f"gruponos_extension {command} does not import {', '.join(forbidden)}",
                "ok": not found,
                "detail": f"imported: {', '.join(found)}" if found else "not imported",
            }
        )
    broken = [c for c in commands.values() if c.error]
    targets.append(
        {
            "name": "every command exits 0 with its expected output",
            "ok": not broken,
            "detail": "; ".join(f"{c.name}: {c.error}" for c in broken) or "yes",
        }
    )
    return targets


def _fmt_target(t: dict[str, Any]) -> str:
    verdict = "PASS" if t["ok"] else "MISS"
    if "value" in t:
        return f"  {verdict}  {t['name']}: {t['value']:.3f} s vs {t['limit']:.3f} s; {t['detail']}"
    return f"  {verdict}  {t['name']}: {t['detail']}"


def render(data: dict[str, Any]) -> str:
    """The tables for people, from the JSON this bench emits."""
    out = [
        f"CLI startup, whole process (fresh plugin venvs; {data['warmups']} warm-ups, "
        f"then {data['runs']} runs each, round-robin)",
        f"Python {data['python']}, {data['cpus']} CPUs, 1-min load average "
        f"{data['load_average']:.1f}; venvs by {data['venvs']['installer']}",
    ]
    header = f"{'command':<30} {'median':>9} {'min':>9} {'max':>9}  vs peer  {'CPU':>9}  vs peer"
    out += ["", header, "-" * len(header)]
    commands = {c["name"]: c for c in data["commands"]}
    peer = commands["dbt_extension describe"]["median_s"]
    peer_cpu = commands["dbt_extension describe"].get("median_cpu_s")
    for c in data["commands"]:
        if c["median_s"] is None:
            out.append(f"{c['name']:<30} NOT MEASURED: {c['error']}")
            continue
        ratio = f"{c['median_s'] / peer:.2f}x" if peer else "-"
        cpu = c.get("median_cpu_s")
        cpu_ratio = f"{cpu / peer_cpu:.2f}x" if cpu and peer_cpu else "-"
        out.append(
            f"{c['name']:<30} {c['median_s']:>7.3f} s {c['min_s']:>7.3f} s "
            f"{c['max_s']:>7.3f} s  {ratio:>7}  {cpu or 0:>7.3f} s  {cpu_ratio}"
        )
    out.append(
        "(CPU: median user + sys time of the whole process, steadier than wall time "
        "on a loaded machine)"
    )
    out += ["", "Plugin venvs (what each side pays for):"]
    for side in ("gruponos_extension", "dbt_extension"):
        packages = data["venvs"][side]
        out.append(f"  {side}: {len(packages)} distributions: {', '.join(packages)}")
    out += ["", "Import time (python -X importtime, quietest of 5 runs; sum of self times):"]
    for name, imp in data["importtime"].items():
        out.append(f"  {name:<30} {imp['total_ms']:7.1f} ms in {imp['modules']} modules")
    for name in ("gruponos_extension describe", "gruponos_extension health"):
        ours = data["importtime"][name]
        out.append(f"  `{name}`: top-level imports by cumulative time")
        out += [f"    {ms:7.1f} ms  {mod}" for mod, ms in ours["top_level_by_cumulative_ms"][:8]]
        out.append(f"  `{name}`: modules by self time")
        out += [f"    {ms:7.1f} ms  {mod}" for mod, ms in ours["top_by_self_ms"][:8]]
    out += ["", "Modules loaded at exit (heavy ones named):"]
    for name, info in data["heavy_modules"].items():
        heavy = ", ".join(info["heavy"]) or "none"
        out.append(f"  {name:<30} {info['count']:>4} modules; heavy: {heavy}")
    out += ["", "Targets"]
    out += [_fmt_target(t) for t in data["targets"]]
    out += [f"note: {n}" for n in data["notes"]]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command (default 15)")
    parser.add_argument(
        "--venv-dir",
        type=Path,
        default=None,
        help="keep the plugin venvs here and reuse them (ours is always reinstalled); "
        "default: fresh ones in a temporary directory",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    args = parser.parse_args(argv)
    data = run(max(1, args.runs), args.venv_dir.resolve() if args.venv_dir else None)
    print(json.dumps(data, indent=2) if args.json else render(data))
    return 0 if data["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
