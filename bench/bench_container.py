"""Benchmark the DI container against its peers (issue 2, "Speed").

In one process and one run, the same graph is wired in our container, in each
peer (svcs, dishka, wireup, dependency-injector, lagom, punq) and in a
hand-written closure baseline:

- **singleton**: resolve an already-created singleton ``S``;
- **transient**: resolve a transient ``A(b: B, s: S)`` whose ``B`` is transient
  too and whose ``S`` is the singleton.

Every setup is checked before it is timed (the singleton is the same object
each time; each ``A`` and its ``B`` are new; ``A.s`` is the singleton). Cases
are timed round-robin with :mod:`timeit` (GC off, batches of ~``--batch``
seconds) and the best of ``--repeat`` rounds is kept, in ns per call (the
timeit loop itself is included for everyone alike; its cost is shown).

Then ``Container.validate()`` on generated graphs of 1,000 / 5,000 / 10,000
services (each depends on 0-3 services registered earlier, at indices i//2,
i//3, i//7, so the depth stays logarithmic; one service in five is transient;
singletons only depend on singletons, as a healthy graph does), and the
tracemalloc peak of building and validating the 10,000-service container.

Some peers are shown in two idiomatic variants (svcs: a new container per
request or one live container; dishka and wireup: with or without a new scope
per call); a target is judged against the peer's fastest variant.

Targets: our singleton resolve at least as fast as the fastest pure-Python
peer (compiled extensions are shown but not counted); our transient chain
faster than dishka; validate() of 10,000 services
under 1 s, growing linearly (per-service time at 10,000 within 2x of 1,000).
Exit status 1 when a target is missed (everything is printed first).

    .venv/bin/python bench/bench_container.py [--repeat N] [--batch S] [--json]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import logging
import os
import platform
import sys
import time
import timeit
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

import structlog

from gruponos_ext.core.container import Container

OURS = "gruponos (ours)"
BASELINE = "closure (baseline)"
SINGLETON = "singleton"
TRANSIENT = "transient"
VALIDATE_SIZES = (1_000, 5_000, 10_000)
VALIDATE_TARGET_S = 1.0
LINEAR_SLACK = 2.0  # per-service time at the largest size may be at most 2x the smallest


# -- the graph ------------------------------------------------------------------
@dataclass
class Graph:
    """One fresh set of classes per library, so no library's markers leak into another."""

    S: type[Any]
    B: type[Any]
    A: type[Any]


def make_graph() -> Graph:
    class S:
        __slots__ = ()

    class B:
        __slots__ = ()

    class A:
        __slots__ = ("b", "s")

        def __init__(self, b: Any, s: Any) -> None:
            self.b = b
            self.s = s

    # Real classes, not strings: autowiring peers read these type hints.
    A.__init__.__annotations__ = {"b": B, "s": S, "return": None}
    return Graph(S, B, A)


@dataclass
class Case:
    """One timed expression: ``stmt`` evaluated in ``ns``, as a user would write it."""

    library: str
    kind: str  # SINGLETON | TRANSIENT
    stmt: str
    ns: dict[str, Any]
    variant: str = ""
    check: str = ""  # expression returning the object to check when stmt is a statement
    singleton: Callable[[], Any] | None = None  # this case's singleton, if not the setup's


@dataclass
class Setup:
    library: str
    version: str
    compiled: bool
    graph: Graph
    singleton: Callable[[], Any]  # how to fetch the singleton, for the transient check
    cases: list[Case]


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def _is_compiled(module: str) -> bool:
    path = getattr(importlib.import_module(module), "__file__", "") or ""
    return path.endswith((".so", ".pyd"))


def setup_ours() -> Setup:
    g = make_graph()
    c = Container()
    c.register_singleton("s", g.S)
    c.register_transient("b", g.B)
    c.register_transient("a", lambda c: g.A(c.resolve("b"), c.resolve("s")))
    c.resolve("s")  # already created before timing
    ns = {"c": c}
    return Setup(
        OURS,
        _version("gruponos-infra"),
        _is_compiled("gruponos_ext.core.container"),
        g,
        lambda: c.resolve("s"),
        [
            Case(OURS, SINGLETON, "c.resolve('s')", ns),
            Case(OURS, TRANSIENT, "c.resolve('a')", ns),
        ],
    )


def setup_closure() -> Setup:
    g = make_graph()
    s = g.S()

    def get_s() -> Any:
        return s

    def make_b() -> Any:
        return g.B()

    def make_a() -> Any:
        return g.A(make_b(), get_s())

    ns = {"get_s": get_s, "make_a": make_a}
    return Setup(
        BASELINE,
        "-",
        False,
        g,
        get_s,
        [
            Case(BASELINE, SINGLETON, "get_s()", ns),
            Case(BASELINE, TRANSIENT, "make_a()", ns),
        ],
    )


def setup_svcs() -> Setup:
    import svcs

    g = make_graph()
    registry = svcs.Registry()
    registry.register_value(g.S, g.S())  # app-wide singleton: a value in the registry
    registry.register_factory(g.B, g.B)

    def make_a(svcs_container: svcs.Container) -> Any:
        return g.A(*svcs_container.get(g.B, g.S))

    registry.register_factory(g.A, make_a)
    cached = svcs.Container(registry)
    cached.get(g.S)
    ns = {"svcs": svcs, "registry": registry, "cached": cached, "S": g.S, "A": g.A}
    per_request = "new Container per request"
    return Setup(
        "svcs",
        _version("svcs"),
        _is_compiled("svcs._core"),
        g,
        lambda: svcs.Container(registry).get(g.S),
        [
            Case("svcs", SINGLETON, "svcs.Container(registry).get(S)", ns, per_request),
            Case("svcs", SINGLETON, "cached.get(S)", ns, "get from one live Container"),
            # svcs caches per container: a "transient" is a new container's first get.
            Case("svcs", TRANSIENT, "svcs.Container(registry).get(A)", ns, per_request),
        ],
    )


def setup_dishka() -> Setup:
    import dishka

    g = make_graph()
    provider = dishka.Provider()
    provider.provide(g.S, scope=dishka.Scope.APP)
    provider.provide(g.B, scope=dishka.Scope.APP, cache=False)
    provider.provide(g.A, scope=dishka.Scope.APP, cache=False)
    container = dishka.make_container(provider)
    container.get(g.S)

    request = dishka.Provider()
    request.provide(g.S, scope=dishka.Scope.APP)
    request.provide(g.B, scope=dishka.Scope.REQUEST)
    request.provide(g.A, scope=dishka.Scope.REQUEST)
    request_container = dishka.make_container(request)
    request_s: Any = request_container.get(g.S)
    ns = {"c": container, "rc": request_container, "S": g.S, "A": g.A}
    return Setup(
        "dishka",
        _version("dishka"),
        _is_compiled("dishka.container"),
        g,
        lambda: container.get(g.S),
        [
            Case("dishka", SINGLETON, "c.get(S)", ns, "APP scope"),
            Case("dishka", TRANSIENT, "c.get(A)", ns, "APP scope, cache=False"),
            Case(
                "dishka",
                TRANSIENT,
                "with rc() as r:\n    r.get(A)",
                ns,
                "REQUEST scope, new scope per call",
                check="_enter_get(rc, A)",
                singleton=lambda: request_s,
            ),
        ],
    )


def setup_wireup() -> Setup:
    import wireup

    g = make_graph()
    wireup.injectable(g.S, lifetime="singleton")
    wireup.injectable(g.B, lifetime="transient")
    wireup.injectable(g.A, lifetime="transient")
    container = wireup.create_sync_container(injectables=[g.S, g.B, g.A])
    container.get(g.S)
    # wireup resolves transients only inside a scope (the root refuses them).
    scope_cm = container.enter_scope()
    scope = scope_cm.__enter__()
    ns = {"c": container, "scope": scope, "S": g.S, "A": g.A}
    return Setup(
        "wireup",
        _version("wireup"),
        _is_compiled("wireup.ioc.container.sync_container"),
        g,
        lambda: container.get(g.S),
        [
            Case("wireup", SINGLETON, "c.get(S)", ns, "root container"),
            Case("wireup", TRANSIENT, "scope.get(A)", ns, "from an open scope"),
            Case(
                "wireup",
                TRANSIENT,
                "with c.enter_scope() as sc:\n    sc.get(A)",
                ns,
                "new scope per call",
                check="_enter_get(c.enter_scope, A)",
            ),
        ],
    )


def setup_dependency_injector() -> Setup:
    from dependency_injector import containers, providers

    g = make_graph()
    c = containers.DynamicContainer()
    c.s = providers.Singleton(g.S)
    c.b = providers.Factory(g.B)
    c.a = providers.Factory(g.A, b=c.b, s=c.s)
    c.s()
    ns = {"c": c}
    return Setup(
        "dependency-injector",
        _version("dependency-injector"),
        _is_compiled("dependency_injector.providers"),
        g,
        c.s,
        [
            Case("dependency-injector", SINGLETON, "c.s()", ns, "providers.Singleton"),
            Case("dependency-injector", TRANSIENT, "c.a()", ns, "providers.Factory"),
        ],
    )


def setup_lagom() -> Setup:
    import lagom

    g = make_graph()
    c = lagom.Container()
    c[g.S] = lagom.Singleton(g.S)
    c[g.S]
    ns = {"c": c, "S": g.S, "A": g.A}
    return Setup(
        "lagom",
        _version("lagom"),
        _is_compiled("lagom.container"),
        g,
        lambda: c[g.S],
        [
            Case("lagom", SINGLETON, "c[S]", ns, "Singleton"),
            Case("lagom", TRANSIENT, "c[A]", ns, "autowired (lagom's default: new each time)"),
        ],
    )


def setup_punq() -> Setup:
    import punq

    g = make_graph()
    c = punq.Container()
    c.register(g.S, scope=punq.Scope.singleton)
    c.register(g.B)
    c.register(g.A)
    c.resolve(g.S)
    ns = {"c": c, "S": g.S, "A": g.A}
    return Setup(
        "punq",
        _version("punq"),
        _is_compiled("punq"),
        g,
        lambda: c.resolve(g.S),
        [
            Case("punq", SINGLETON, "c.resolve(S)", ns, "Scope.singleton"),
            Case("punq", TRANSIENT, "c.resolve(A)", ns, "Scope.transient"),
        ],
    )


SETUPS: tuple[tuple[str, Callable[[], Setup]], ...] = (
    (OURS, setup_ours),
    (BASELINE, setup_closure),
    ("svcs", setup_svcs),
    ("dishka", setup_dishka),
    ("wireup", setup_wireup),
    ("dependency-injector", setup_dependency_injector),
    ("lagom", setup_lagom),
    ("punq", setup_punq),
)


# -- checks and timing --------------------------------------------------------------
def _enter_get(enter: Callable[[], Any], key: Any) -> Any:
    with enter() as scope:
        return scope.get(key)


def _fetch(case: Case) -> Any:
    if case.check:
        return eval(case.check, {**case.ns, "_enter_get": _enter_get})
    return eval(case.stmt, case.ns)


def check_case(case: Case, setup: Setup) -> str | None:
    """Why ``case`` does not return the right objects, or None when it does."""
    g = setup.graph
    first, second = _fetch(case), _fetch(case)
    if case.kind == SINGLETON:
        if not isinstance(first, g.S):
            return f"singleton is a {type(first).__name__}, not S"
        if first is not second or first is not setup.singleton():
            return "singleton is not the same object on every resolve"
        return None
    if not (isinstance(first, g.A) and isinstance(second, g.A)):
        return f"transient is a {type(first).__name__}, not A"
    if first is second:
        return "transient A is the same object twice"
    if not isinstance(first.b, g.B) or first.b is second.b:
        return "A.b is not a fresh B each time"
    singleton = (case.singleton or setup.singleton)()
    if first.s is not singleton or second.s is not singleton:
        return "A.s is not the singleton"
    return None


@dataclass
class Row:
    library: str
    version: str
    compiled: bool
    kind: str
    variant: str
    stmt: str
    ns_per_call: float | None = None
    runs_ns: list[float] = field(default_factory=list)
    number: int = 0
    ratio_to_ours: float | None = None
    error: str | None = None


def _calibrate(timer: timeit.Timer, batch_s: float) -> int:
    """How many calls fill a batch of about ``batch_s`` seconds."""
    number = 1
    while (taken := timer.timeit(number)) < 0.005:
        number *= 10
    return max(1, round(number * batch_s / taken))


def time_cases(
    setups: list[Setup], repeat: int, batch_s: float
) -> tuple[list[Row], float, list[str]]:
    """Check every case, then time the valid ones round-robin; best of ``repeat``."""
    rows: list[Row] = []
    timed: list[tuple[Row, timeit.Timer]] = []
    notes: list[str] = []
    for setup in setups:
        for case in setup.cases:
            row = Row(
                case.library,
                setup.version,
                setup.compiled,
                case.kind,
                case.variant,
                case.stmt.replace("\n   ", ";"),
            )
            rows.append(row)
            try:
                row.error = check_case(case, setup)
            except Exception as exc:
                row.error = f"check raised {type(exc).__name__}: {exc}"
            if row.error:
                notes.append(f"{case.library} {case.kind}: NOT TIMED, {row.error}")
                continue
            timer = timeit.Timer(case.stmt, globals=case.ns)
            row.number = _calibrate(timer, batch_s)
            timed.append((row, timer))
    loop = timeit.Timer("pass")
    loop_number = _calibrate(loop, batch_s)
    loop_runs: list[float] = []
    for _ in range(repeat):
        for row, timer in timed:
            row.runs_ns.append(timer.timeit(row.number) / row.number * 1e9)
        loop_runs.append(loop.timeit(loop_number) / loop_number * 1e9)
    for row, _timer in timed:
        row.ns_per_call = min(row.runs_ns)
    ours = {r.kind: r.ns_per_call for r in rows if r.library == OURS and r.ns_per_call}
    for row in rows:
        if row.ns_per_call is not None and ours.get(row.kind):
            row.ratio_to_ours = row.ns_per_call / ours[row.kind]
    return rows, min(loop_runs), notes


# -- validate() on generated graphs -----------------------------------------------
class Node:
    __slots__ = ("deps", "index")

    def __init__(self, index: int, deps: tuple[Any, ...]) -> None:
        self.index = index
        self.deps = deps


def _is_transient(i: int) -> bool:
    return i % 5 == 4


def _deps_of(i: int) -> tuple[int, ...]:
    """0-3 earlier services (i//2, i//3, i//7); singletons take only singletons."""
    if i == 0:
        return ()
    wanted = dict.fromkeys((i // 2, i // 3, i // 7)[: i % 4])
    if not _is_transient(i):
        wanted = {d: None for d in wanted if not _is_transient(d)}
    return tuple(d for d in wanted if d < i)


def _factory(index: int, deps: tuple[str, ...]) -> Callable[[Container], Node]:
    def build(container: Container) -> Node:
        return Node(index, tuple(container.resolve(d) for d in deps))

    return build


def build_graph(n: int) -> tuple[Container, int]:
    """A container of ``n`` services and its expected number of dependency edges."""
    container = Container()
    edges = 0
    for i in range(n):
        deps = tuple(f"svc{d}" for d in _deps_of(i))
        edges += len(deps)
        if _is_transient(i):
            container.register_transient(f"svc{i}", _factory(i, deps))
        else:
            container.register_singleton(f"svc{i}", _factory(i, deps))
    return container, edges


def _depth(n: int) -> int:
    depth = [0] * n
    for i in range(n):
        depth[i] = 1 + max((depth[d] for d in _deps_of(i)), default=0)
    return max(depth, default=0)


@dataclass
class ValidateRow:
    services: int
    edges: int
    depth: int
    transients: int
    seconds: float
    us_per_service: float
    runs_s: list[float]
    ok: bool
    error: str | None = None


def time_validate(n: int, repeat: int) -> ValidateRow:
    container, edges = build_graph(n)
    runs: list[float] = []
    error = None
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        report = container.validate()
        runs.append(time.perf_counter() - started)
        found = sum(len(d) for d in report.edges.values())
        if not report.ok or report.warnings or found != edges or len(report.lifetimes) != n:
            error = (
                f"unexpected report: ok={report.ok}, {len(report.warnings)} warnings, "
                f"{found} of {edges} edges, {len(report.lifetimes)} services"
            )
    created = [s.name for s in container.services() if s.state == "created"]
    if created:
        error = "validate() created services in the real container"
    best = min(runs)
    return ValidateRow(
        n,
        edges,
        _depth(n),
        sum(_is_transient(i) for i in range(n)),
        best,
        best / n * 1e6,
        runs,
        error is None and (n != max(VALIDATE_SIZES) or best < VALIDATE_TARGET_S),
        error,
    )


def measure_memory(n: int) -> dict[str, float]:
    """tracemalloc: build ``n`` services, validate, keep both; peak and retained MiB."""
    gc.collect()
    tracemalloc.start()
    try:
        container, _ = build_graph(n)
        after_build = tracemalloc.get_traced_memory()[0]
        report = container.validate()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del report, container
    mib = 1024 * 1024
    return {
        "services": n,
        "after_build_mib": after_build / mib,
        "retained_after_validate_mib": current / mib,
        "peak_mib": peak / mib,
        "peak_bytes_per_service": peak / n,
    }


# -- targets and rendering -----------------------------------------------------------
def judge(rows: list[Row], validate_rows: list[ValidateRow]) -> list[dict[str, Any]]:
    def best(predicate: Callable[[Row], bool]) -> Row | None:
        found = [r for r in rows if r.ns_per_call is not None and predicate(r)]
        return min(found, key=lambda r: r.ns_per_call or 0.0) if found else None

    targets: list[dict[str, Any]] = []
    ours_s = best(lambda r: r.library == OURS and r.kind == SINGLETON)
    ours_t = best(lambda r: r.library == OURS and r.kind == TRANSIENT)
    pure = best(
        lambda r: r.kind == SINGLETON and not r.compiled and r.library not in (OURS, BASELINE)
    )
    if ours_s and pure:
        targets.append(
            {
                "name": "singleton resolve <= fastest pure-Python peer",
                "value": ours_s.ns_per_call,
                "limit": pure.ns_per_call,
                "unit": "ns",
                "ok": (ours_s.ns_per_call or 0) <= (pure.ns_per_call or 0),
                "detail": f"fastest pure-Python peer: {pure.library} ({pure.variant or pure.stmt})",
            }
        )
    else:
        targets.append(
            {
                "name": "singleton resolve <= fastest pure-Python peer",
                "ok": False,
                "detail": "not measured (ours or every pure-Python peer missing)",
            }
        )
    dishka = best(lambda r: r.library == "dishka" and r.kind == TRANSIENT)
    if ours_t and dishka:
        targets.append(
            {
                "name": "transient chain < dishka",
                "value": ours_t.ns_per_call,
                "limit": dishka.ns_per_call,
                "unit": "ns",
                "ok": (ours_t.ns_per_call or 0) < (dishka.ns_per_call or 0),
                "detail": f"dishka {dishka.variant}",
            }
        )
    else:
        targets.append(
            {
                "name": "transient chain < dishka",
                "ok": False,
                "detail": "not measured (ours or dishka missing)",
            }
        )
    largest = max(validate_rows, key=lambda v: v.services)
    smallest = min(validate_rows, key=lambda v: v.services)
    targets.append(
        {
            "name": f"validate() of {largest.services:,} services < {VALIDATE_TARGET_S:g} s",
            "value": largest.seconds,
            "limit": VALIDATE_TARGET_S,
            "unit": "s",
            "ok": largest.ok and largest.seconds < VALIDATE_TARGET_S,
            "detail": largest.error or "report correct (every edge found, nothing missing)",
        }
    )
    growth = largest.us_per_service / smallest.us_per_service
    targets.append(
        {
            "name": "validate() grows linearly (per-service time, largest / smallest)",
            "value": growth,
            "limit": LINEAR_SLACK,
            "unit": "x",
            "ok": growth <= LINEAR_SLACK and all(v.error is None for v in validate_rows),
            "detail": ", ".join(
                f"{v.services:,}: {v.us_per_service:.1f} us" for v in validate_rows
            ),
        }
    )
    return targets


def _fmt_ns(ns: float | None) -> str:
    if ns is None:
        return "-"
    return f"{ns:,.0f} ns" if ns < 10_000 else f"{ns / 1000:,.1f} us"


def render(data: dict[str, Any]) -> str:
    """The tables for people, from the JSON this bench emits."""
    before, after = data["load_average"]
    out = [
        f"DI container resolve (best of {data['repeat']} rounds, ns per call; lower is better)",
        f"Python {data['python']}, {data['cpus']} CPUs, 1-min load average "
        f"{before:.1f} -> {after:.1f}",
    ]
    header = f"{'library':<22} {'version':<9} {'kind':<10} {'ns/call':>10} {'x ours':>7}  variant"
    for kind in (SINGLETON, TRANSIENT):
        out += ["", header, "-" * len(header)]
        rows = [r for r in data["resolve"] if r["kind"] == kind]
        rows.sort(key=lambda r: (r["ns_per_call"] is None, r["ns_per_call"] or 0.0))
        for r in rows:
            ratio = f"{r['ratio_to_ours']:.2f}" if r["ratio_to_ours"] else "-"
            tags = [r["variant"] or r["stmt"]]
            if r["compiled"]:
                tags.append("compiled")
            if r["error"]:
                tags.append(f"NOT TIMED: {r['error']}")
            out.append(
                f"{r['library']:<22} {r['version']:<9} {kind:<10} "
                f"{_fmt_ns(r['ns_per_call']):>10} {ratio:>7}  {'; '.join(tags)}"
            )
    out.append(f"(timeit loop overhead, included above for everyone: {data['loop_ns']:.1f} ns)")
    out += ["", "Container.validate() on generated graphs (best of runs)"]
    header = (
        f"{'services':>9} {'edges':>7} {'depth':>6} {'transient':>9} "
        f"{'seconds':>9} {'us/service':>11}  ok"
    )
    out += [header, "-" * len(header)]
    for v in data["validate"]:
        out.append(
            f"{v['services']:>9,} {v['edges']:>7,} {v['depth']:>6} {v['transients']:>9,} "
            f"{v['seconds']:>9.3f} {v['us_per_service']:>11.1f}  "
            f"{'yes' if v['ok'] else 'NO'}{'  ' + v['error'] if v['error'] else ''}"
        )
    m = data["memory"]
    out.append(
        f"memory (tracemalloc, {m['services']:,} services): built {m['after_build_mib']:.1f} MiB, "
        f"peak during validate {m['peak_mib']:.1f} MiB "
        f"({m['peak_bytes_per_service']:,.0f} B/service), retained after validate "
        f"{m['retained_after_validate_mib']:.1f} MiB"
    )
    out += ["", "Targets"]
    out += [_fmt_target(t) for t in data["targets"]]
    out += [f"note: {n}" for n in data["notes"]]
    return "\n".join(out)


def _fmt_target(t: dict[str, Any]) -> str:
    verdict = "PASS" if t["ok"] else "MISS"
    if "value" not in t:
        return f"  {verdict}  {t['name']}: {t['detail']}"
    unit = t["unit"]
    if unit == "ns":
        figures = f"{_fmt_ns(t['value'])} vs {_fmt_ns(t['limit'])}"
        figures += f" (ours / limit = {t['value'] / t['limit']:.2f})"
    elif unit == "s":
        figures = f"{t['value']:.3f} s vs {t['limit']:g} s"
    else:
        figures = f"{t['value']:.2f}{unit} vs <= {t['limit']:g}{unit}"
    return f"  {verdict}  {t['name']}: {figures}; {t['detail']}"


def run(repeat: int, batch_s: float, validate_repeat: int) -> dict[str, Any]:
    # The container logs singleton creation at debug level: keep logging out of the timings.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    load_before = os.getloadavg()[0]
    setups: list[Setup] = []
    notes: list[str] = []
    for library, make in SETUPS:
        try:
            setups.append(make())
        except ImportError as exc:
            notes.append(f"{library} is not installed ({exc}); left out, no figure")
        except Exception as exc:
            notes.append(f"{library} setup failed ({type(exc).__name__}: {exc}); left out")
    rows, loop_ns, check_notes = time_cases(setups, repeat, batch_s)
    notes += check_notes
    validate_rows = [time_validate(n, validate_repeat) for n in VALIDATE_SIZES]
    memory = measure_memory(max(VALIDATE_SIZES))
    targets = judge(rows, validate_rows)
    return {
        "bench": "container",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": [load_before, os.getloadavg()[0]],
        "repeat": repeat,
        "batch_s": batch_s,
        "loop_ns": loop_ns,
        "resolve": [asdict(r) for r in rows],
        "validate": [asdict(v) for v in validate_rows],
        "memory": memory,
        "targets": targets,
        "notes": notes,
        "ok": all(t["ok"] for t in targets),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=15, help="timing rounds (default 15)")
    parser.add_argument(
        "--batch", type=float, default=0.02, help="seconds per timed batch (default 0.02)"
    )
    parser.add_argument(
        "--validate-repeat", type=int, default=3, help="validate() runs per size (default 3)"
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    args = parser.parse_args(argv)
    data = run(max(1, args.repeat), args.batch, max(1, args.validate_repeat))
    print(json.dumps(data, indent=2) if args.json else render(data))
    return 0 if data["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
