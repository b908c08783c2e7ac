"""Whole-graph validation and graph export, in a throw-away child container."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from gruponos_ext.core import Container


class Thing:
    pass


def test_validate_finds_a_missing_dependency_with_its_path_and_near_names() -> None:
    container = Container()
    container.register_singleton("alert_manager", Thing)
    container.register_transient("orchestrator", lambda c: c.resolve("validator"))
    container.register_transient("validator", lambda c: c.resolve("alert_managr"))
    report = container.validate()
    assert not report.ok
    assert len(report.missing) == 1
    missing = report.missing[0]
    assert (missing.service, missing.dependency) == ("validator", "alert_managr")
    assert missing.suggestions == ("alert_manager",)
    assert "path: orchestrator -> validator -> alert_managr" in str(missing)


def test_validate_reports_a_three_cycle_once_with_its_whole_path() -> None:
    container = Container()
    container.register_singleton("a", lambda c: c.resolve("b"))
    container.register_singleton("b", lambda c: c.resolve("c"))
    container.register_singleton("c", lambda c: c.resolve("a"))
    report = container.validate()
    assert report.cycles == (("a", "b", "c", "a"),)
    assert "circular dependency: a -> b -> c -> a" in report.errors


def test_validate_warns_about_a_singleton_capturing_a_transient() -> None:
    container = Container()
    container.register_transient("session", Thing)
    container.register_singleton("cache", lambda c: c.resolve("session"))
    report = container.validate()
    assert report.ok
    assert len(report.warnings) == 1
    assert "singleton 'cache' holds transient 'session'" in report.warnings[0]


def test_validate_reports_failing_factories() -> None:
    container = Container()

    def broken() -> Thing:
        raise ValueError("bad config")

    container.register_singleton("broken", broken)
    container.register_transient("user", lambda c: c.resolve("broken"))
    report = container.validate()
    assert [f.service for f in report.failures] == ["broken"]
    assert "ValueError: bad config" in report.failures[0].error


def test_validate_leaves_the_real_container_untouched_and_disposes_the_child() -> None:
    created: list[int] = []
    cleaned: list[int] = []
    container = Container()
    container.register_singleton(
        "svc", lambda: created.append(1) or Thing(), cleanup=lambda _: cleaned.append(1)
    )
    report = container.validate()
    assert report.ok
    assert created == [1] and cleaned == [1]  # built and cleaned in the child only
    assert {i.name: i.state for i in container.services()} == {"svc": "not created"}
    assert not container.disposed
    container.resolve("svc")
    assert created == [1, 1]


def test_validate_does_not_clean_up_the_parents_instances() -> None:
    cleaned: list[object] = []
    container = Container()
    container.register_instance("given", Thing(), cleanup=cleaned.append)
    container.register_transient("user", lambda c: c.resolve("given"))
    assert container.validate().ok
    assert cleaned == []


def test_validate_records_edges_even_for_shared_singletons() -> None:
    container = Container()
    container.register_singleton("db", Thing)
    container.register_transient("a", lambda c: c.resolve("db"))
    container.register_transient("b", lambda c: (c.resolve("db"), c.resolve("a")))
    report = container.validate()
    assert report.edges == {"db": (), "a": ("db",), "b": ("db", "a")}


def test_graph_exports_mermaid_and_dot() -> None:
    container = Container()
    container.register_singleton("db", Thing)
    container.register_transient("job", lambda c: (c.resolve("db"), c.resolve("missing")))
    mermaid = container.graph("mermaid")
    assert mermaid.startswith("graph TD\n")
    ids = dict(re.findall(r"(s\d+)\W+\"?(\w+)<br/>", mermaid))
    by_name = {v: k for k, v in ids.items()}
    assert f"{by_name['job']} --> {by_name['db']}" in mermaid
    assert "missing<br/>MISSING" in mermaid
    dot = container.graph("dot")
    assert dot.startswith("digraph services {")
    assert '"job" -> "db";' in dot and '"job" -> "missing";' in dot
    assert '"missing" [shape=octagon, style=dashed' in dot


def test_validate_scales_to_thousands_of_services() -> None:
    container = Container()
    container.register_singleton("root", Thing)
    for i in range(2000):
        dep = "root" if i == 0 else f"svc{i // 2}"  # a tree: wide and shallow, like real graphs
        container.register_transient(f"svc{i}", lambda c, d=dep: (c.resolve(d), Thing()))
    report = container.validate()
    assert report.ok and len(report.lifetimes) == 2001


# -- issue 9: validate() on deep graphs and runaway factories ----------------------------
def test_validate_of_a_deep_chain_registered_leaf_first_is_ok() -> None:
    container = Container()
    container.register_singleton("n0", Thing)
    for i in range(1, 3_000):
        register = container.register_transient if i % 2 else container.register_singleton
        register(f"n{i}", lambda c, dep=f"n{i - 1}": (c.resolve(dep), Thing()))
    report = container.validate()
    assert report.ok, report.errors
    assert report.edges["n2999"] == ("n2998",)


def test_validate_of_a_chain_too_deep_to_resolve_reports_it_without_crashing() -> None:
    calls: list[str] = []
    container = Container()
    for i in range(2_000):  # registered head first: resolving n0 goes 2,000 deep
        container.register_transient(
            f"n{i}", lambda c, me=f"n{i}", dep=f"n{i + 1}": calls.append(me) or c.resolve(dep)
        )
    container.register_transient("n2000", Thing)
    report = container.validate()
    assert not report.ok and not report.cycles and not report.missing
    assert 1 <= len(report.failures) <= 20  # one per stretch of the chain, not one per service
    assert all("exceeded the recursion limit" in f.error for f in report.failures)
    assert report.failures[0].path[:2] == ("n0", "n1")
    assert len(calls) < 3 * 2_000  # each stretch probed once


def test_validate_reports_a_factory_raising_recursion_error_as_a_failure() -> None:
    def bottomless() -> Thing:
        raise RecursionError("maximum recursion depth exceeded")

    container = Container()
    container.register_singleton("bottomless", bottomless)
    container.register_transient("user", lambda c: c.resolve("bottomless"))
    report = container.validate()
    assert [f.service for f in report.failures] == ["bottomless"]
    assert "exceeded the recursion limit" in report.failures[0].error


def test_validate_builds_each_transient_once() -> None:
    built: list[int] = []
    container = Container()
    container.register_transient("shared", lambda: built.append(1) or Thing())
    for i in range(50):
        container.register_transient(f"user{i}", lambda c: c.resolve("shared"))
    report = container.validate()
    assert report.ok and all(report.edges[f"user{i}"] == ("shared",) for i in range(50))
    assert built == [1]


# -- issue 10: modules that depend one way -------------------------------------------------
def test_the_report_and_the_export_load_without_the_container() -> None:
    code = (
        "import sys, gruponos_ext.core.graph_export, gruponos_ext.core.wiring; "
        "print(sorted(m for m in sys.modules if m.startswith('gruponos_ext.core')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = done.stdout
    assert "gruponos_ext.core.wiring" in loaded and "gruponos_ext.core.graph_export" in loaded
    assert "gruponos_ext.core.container" not in loaded


def test_graph_refuses_an_unknown_format() -> None:
    container = Container()
    with pytest.raises(ValueError, match="unknown graph format 'svg'; use 'mermaid' or 'dot'"):
        container.graph("svg")
