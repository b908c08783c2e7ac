"""Whole-graph validation and graph export, in a throw-away child container."""

from __future__ import annotations

import re

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
