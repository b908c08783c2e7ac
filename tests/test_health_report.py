"""Report renderings: readable text and IETF health JSON (draft-inadarei-api-health-check)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from importlib.metadata import version as installed_version
from typing import Any

from gruponos_ext.health.model import CheckResult, HealthReport, Status
from gruponos_ext.health.report import render_json, render_text, to_ietf_json

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)


def result(name: str, status: Status, message: str = "", **kw: Any) -> CheckResult:
    kw.setdefault("duration_s", 0.0123)
    kw.setdefault("time", T0)
    return CheckResult(name=name, status=status, message=message, **kw)


def sample_report() -> HealthReport:
    results = (
        result(
            "oracle:responseTime",
            Status.PASS,
            "connected to ORCL (19.3)",
            observed_value=12.5,
            observed_unit="ms",
            component_type="datastore",
            details={"component_id": "orcl-prod", "server_version": "19.3"},
        ),
        result("wms:api", Status.FAIL, "timed out after 2.0 s", duration_s=2.0004),
        result(
            "disk:free_space",
            Status.FAIL,
            "150.0 MiB free",
            critical=False,
            observed_value=150.0,
            observed_unit="MiB",
        ),
        result("circuit_breakers:state", Status.WARN, "1 of 2 circuit breakers open: wms"),
        result("meltano_db:integrity", Status.SKIP, "MELTANO_DATABASE_URI is not set"),
    )
    return HealthReport.aggregate(results, 2.0105, T0)


# -- text ---------------------------------------------------------------------------


def test_text_has_one_line_per_check_and_a_summary() -> None:
    text = render_text(sample_report())
    assert not text.endswith("\n")
    lines = text.splitlines()
    assert len(lines) == 5 + 2  # checks, a blank line, the summary
    assert re.fullmatch(
        r"PASS\s+oracle:responseTime\s+12 ms\s+connected to ORCL \(19\.3\)\s+\[12\.5 ms\]", lines[0]
    )
    assert re.fullmatch(r"FAIL\s+wms:api\s+2000 ms\s+timed out after 2\.0 s", lines[1])
    assert lines[2].endswith("150.0 MiB free (non-critical)  [150 MiB]")
    assert lines[3].startswith("WARN")
    assert lines[4].startswith("SKIP") and "MELTANO_DATABASE_URI is not set" in lines[4]
    assert lines[-1] == "FAIL: 5 checks (1 pass, 1 warn, 2 fail, 1 skip) in 2.01 s"
    # durations line up in one column after the padded names
    assert len({line.index(" ms") for line in lines[:5]}) == 1
    assert "\x1b[" not in text


def test_text_colours_only_when_asked() -> None:
    coloured = render_text(sample_report(), color=True)
    assert "\x1b[32mPASS" in coloured and "\x1b[31mFAIL" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == render_text(sample_report())


def test_text_of_an_empty_report_is_just_the_summary() -> None:
    report = HealthReport.aggregate((), 0.001, T0)
    assert render_text(report) == "PASS: 0 checks (0 pass, 0 warn, 0 fail, 0 skip) in 0.00 s"


# -- IETF JSON ---------------------------------------------------------------------


def test_json_top_level_follows_the_ietf_draft() -> None:
    doc = json.loads(render_json(sample_report(), version="1.2.3"))
    assert doc["status"] == "fail"
    assert doc["version"] == "1.2.3"
    assert doc["serviceId"] == "gruponos-infra"
    assert isinstance(doc["description"], str) and doc["description"]
    assert doc["output"] == "fail: wms:api, disk:free_space, circuit_breakers:state"
    assert doc["time"] == "2024-05-01T12:00:00.123Z"
    assert doc["duration_ms"] == 2010.5
    assert list(doc["checks"]) == [
        "oracle:responseTime",
        "wms:api",
        "disk:free_space",
        "circuit_breakers:state",
        "meltano_db:integrity",
    ]
    for entries in doc["checks"].values():
        assert isinstance(entries, list) and len(entries) == 1
        entry = entries[0]
        assert entry["status"] in {"pass", "warn", "fail"}
        assert isinstance(entry["componentType"], str)
        parsed = datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))
        assert parsed.utcoffset() == timedelta(0)
        assert isinstance(entry["duration_ms"], float)
        assert isinstance(entry["critical"], bool)


def test_json_check_entries_carry_observations_and_output_only_when_not_pass() -> None:
    checks = to_ietf_json(sample_report(), version="x")["checks"]
    oracle = checks["oracle:responseTime"][0]
    assert oracle == {
        "componentId": "orcl-prod",
        "componentType": "datastore",
        "status": "pass",
        "observedValue": 12.5,
        "observedUnit": "ms",
        "time": "2024-05-01T12:00:00.123Z",
        "duration_ms": 12.3,
        "critical": True,
        "details": {"server_version": "19.3"},
    }
    wms = checks["wms:api"][0]
    assert (wms["status"], wms["output"], wms["componentType"]) == (
        "fail",
        "timed out after 2.0 s",
        "component",
    )
    assert "observedValue" not in wms
    disk = checks["disk:free_space"][0]
    assert (disk["status"], disk["critical"], disk["observedValue"]) == ("fail", False, 150.0)


def test_skipped_check_is_pass_but_stays_recognisable() -> None:
    entry = to_ietf_json(sample_report(), version="x")["checks"]["meltano_db:integrity"][0]
    assert entry["status"] == "pass"
    assert entry["skipped"] is True
    assert entry["output"] == "skipped: MELTANO_DATABASE_URI is not set"


def test_noncritical_failure_alone_makes_the_document_warn() -> None:
    report = HealthReport.aggregate(
        (result("a:x", Status.PASS), result("b:y", Status.FAIL, "down", critical=False)), 0.1, T0
    )
    doc = to_ietf_json(report, version="x")
    assert doc["status"] == "warn"
    assert doc["checks"]["b:y"][0]["status"] == "fail"
    assert doc["output"] == "warn: b:y"


def test_passing_document_has_no_output_and_defaults_to_the_package_version() -> None:
    report = HealthReport.aggregate((result("a:x", Status.PASS, "fine"),), 0.1, T0)
    doc = to_ietf_json(report, service_id="gruponos-prod")
    assert doc["status"] == "pass"
    assert "output" not in doc
    assert "output" not in doc["checks"]["a:x"][0]
    assert doc["version"] == installed_version("gruponos-infra")
    assert doc["serviceId"] == "gruponos-prod"


def test_naive_times_are_taken_as_utc() -> None:
    naive = T0.replace(tzinfo=None)
    report = HealthReport.aggregate((result("a:x", Status.PASS, time=naive),), 0.1, naive)
    assert to_ietf_json(report, version="x")["checks"]["a:x"][0]["time"] == (
        "2024-05-01T12:00:00.123Z"
    )


def test_render_json_is_compact_when_asked() -> None:
    text = render_json(sample_report(), indent=None, version="x")
    assert "\n" not in text
    assert json.loads(text)["status"] == "fail"
