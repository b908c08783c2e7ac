"""Benchmark ``validate`` of a meltano.yml (issue 8, "Speed").

Scenarios, side by side in one run:

- a project whose N utilities inherit from each other in one ``inherit_from``
  chain (N = 200, 400, 1,000, 5,000): each declares a setting and a command,
  sets a config key declared only at the chain's root, and a job runs a
  command of the last one, so every look-up walks the chain. Timed:
  ``validate_project`` (read, model, every rule) and ``load_project``.
  Targets: 1,000 plugins well under 1 s (< 0.5 s), and linear growth
  (5,000 plugins take < 10x the time of 1,000, where a quadratic check takes 25x);
- the same chain checked by the implementation before this change (the
  single-module validator, read from git history), at 200 and 400 plugins
  (skipped with ``--quick``; it is cubic: 1,000 plugins took ~100 s);
- a 50 MB meltano.yml: refused before parsing (FILE_TOO_LARGE) in < 0.1 s,
  with its peak memory (tracemalloc) shown.

Each scenario runs ``--repeat`` times; the median is judged. Exit status 1
when a target is missed (everything is printed first).

    .venv/bin/python bench/bench_validate.py [--repeat N] [--quick] [--json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gruponos_ext.project import load_project, validate_project

CHAIN_SIZES = (200, 400, 1000, 5000)
OLD_SIZES = (200, 400)
OLD_COMMIT = "b0451d0"  # the last commit with gruponos_ext/extension/project.py
TARGET_1000_S = 0.5
TARGET_GROWTH = 10.0  # 5x the plugins: linear is ~5x (plus cache effects), quadratic 25x
TARGET_REFUSAL_S = 0.1
HUGE_BYTES = 50 * 1000 * 1000


def chain_project(root: Path, size: int) -> Path:
    """``size`` utilities in one inherit_from chain, and a job using the last one."""
    lines = ["project_id: bench", "plugins:", "  utilities:"]
    lines += [
        "  - name: u0",
        "    namespace: u0",
        "    settings:",
        "    - name: shared",
        "    - name: s0",
        "    commands:",
        "      c0: run",
    ]
    for index in range(1, size):
        lines += [
            f"  - name: u{index}",
            f"    inherit_from: u{index - 1}",
            "    settings:",
            f"    - name: s{index}",
            "    commands:",
            f"      c{index}: run",
            "    config:",
            "      shared: value",
            f"      s{index}: value",
        ]
    lines += ["jobs:", "- name: last", "  tasks:", f"  - u{size - 1}:c0 u{size - 1}:c{size - 1}"]
    root.mkdir(parents=True, exist_ok=True)
    (root / "meltano.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def huge_project(root: Path) -> Path:
    """A 50 MB meltano.yml of real YAML (never parsed: it is over the limit)."""
    root.mkdir(parents=True, exist_ok=True)
    line = "# " + "x" * 97 + "\n"
    with (root / "meltano.yml").open("w", encoding="utf-8") as stream:
        stream.write("project_id: huge\n")
        stream.write(line * (HUGE_BYTES // len(line)))
    return root


def old_validator() -> Callable[[Path], Any] | None:
    """``validate_project`` of the implementation this change replaced (from git)."""
    checkout = Path(__file__).resolve().parents[1]
    try:
        source = subprocess.run(
            ["git", "show", f"{OLD_COMMIT}:gruponos_ext/extension/project.py"],
            cwd=checkout,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(tempfile.mkdtemp()) / "old_project_validator.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("old_project_validator", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    function: Callable[[Path], Any] = module.validate_project
    return function


def timed(function: Callable[[], Any], repeat: int) -> dict[str, float]:
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    return {"median_s": statistics.median(seconds), "min_s": min(seconds), "runs": repeat}


def measure(repeat: int, quick: bool) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-validate-"))
    chains: list[dict[str, Any]] = []
    for size in CHAIN_SIZES:
        root = chain_project(work / f"chain-{size}", size)
        report = validate_project(root)
        assert report.ok and not report.findings, report.lines()[:5]
        model = load_project(root)
        assert len(model.plugins) == size
        row = {"plugins": size, "implementation": "validate (this package)"}
        row |= timed(lambda root=root: validate_project(root), repeat)
        row["load_project_median_s"] = timed(lambda root=root: load_project(root), repeat)[
            "median_s"
        ]
        row["us_per_plugin"] = row["median_s"] / size * 1e6
        chains.append(row)
    old = None if quick else old_validator()
    if old is not None:
        for size in OLD_SIZES:
            root = work / f"chain-{size}"
            row = {"plugins": size, "implementation": f"before ({OLD_COMMIT})"}
            row |= timed(lambda root=root: old(root), 1)
            row["us_per_plugin"] = row["median_s"] / size * 1e6
            chains.append(row)
    huge = huge_project(work / "huge")
    tracemalloc.start()
    report = validate_project(huge)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.codes == ("FILE_TOO_LARGE",), report.lines()
    refusal = timed(lambda: validate_project(huge), repeat)
    refusal |= {
        "bytes": (huge / "meltano.yml").stat().st_size,
        "peak_mib": peak / 1048576,
        "message": report.findings[0].message,
    }
    return {"chains": chains, "refusal": refusal}


def judge(data: dict[str, Any]) -> list[dict[str, Any]]:
    ours = {r["plugins"]: r for r in data["chains"] if r["implementation"].startswith("validate")}
    growth = ours[5000]["median_s"] / ours[1000]["median_s"]
    return [
        {
            "name": f"validate, 1,000-plugin inherit_from chain < {TARGET_1000_S} s",
            "value": ours[1000]["median_s"],
            "limit": TARGET_1000_S,
            "unit": "s",
            "ok": ours[1000]["median_s"] < TARGET_1000_S,
            "detail": f"{ours[1000]['us_per_plugin']:.0f} us per plugin",
        },
        {
            "name": f"validate grows linearly: 5,000 / 1,000 plugins < {TARGET_GROWTH}x",
            "value": growth,
            "limit": TARGET_GROWTH,
            "unit": "x",
            "ok": growth < TARGET_GROWTH,
            "detail": f"{ours[5000]['median_s']:.3f} s vs {ours[1000]['median_s']:.3f} s",
        },
        {
            "name": f"50 MB meltano.yml refused before parsing < {TARGET_REFUSAL_S} s",
            "value": data["refusal"]["median_s"],
            "limit": TARGET_REFUSAL_S,
            "unit": "s",
            "ok": data["refusal"]["median_s"] < TARGET_REFUSAL_S,
            "detail": f"peak {data['refusal']['peak_mib']:.2f} MiB",
        },
    ]


def render(data: dict[str, Any]) -> str:
    out = ["validate of a meltano.yml (median of runs)", ""]
    header = (
        f"{'implementation':<26} {'plugins':>8} {'median':>10} {'per plugin':>12} "
        f"{'load_project':>13}"
    )
    out += [header, "-" * len(header)]
    for row in data["chains"]:
        load = row.get("load_project_median_s")
        out.append(
            f"{row['implementation']:<26} {row['plugins']:>8,} {row['median_s']:>8.3f} s "
            f"{row['us_per_plugin']:>9.0f} us "
            f"{(f'{load:.3f} s' if load is not None else '-'):>13}"
        )
    refusal = data["refusal"]
    out += [
        "",
        f"{refusal['bytes'] / 1e6:.0f} MB meltano.yml: refused in "
        f"{refusal['median_s'] * 1e6:.0f} us, peak {refusal['peak_mib']:.2f} MiB: "
        f"{refusal['message']}",
        "",
        "Targets:",
    ]
    for target in data["targets"]:
        verdict = "PASS" if target["ok"] else "MISS"
        out.append(f"  {verdict}  {target['name']}: {target['value']:.3f} ({target['detail']})")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5, help="runs per scenario (median)")
    parser.add_argument("--quick", action="store_true", help="skip the previous implementation")
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    args = parser.parse_args(argv)
    data = measure(args.repeat, args.quick)
    data["targets"] = judge(data)
    data["ok"] = all(t["ok"] for t in data["targets"])
    print(json.dumps(data, indent=2) if args.json else render(data))
    return 0 if data["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
