"""DataValidator: every rule, strict vs lenient, many records, bad rules refused."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.services.validator import (
    ISO_8601,
    AllowedValues,
    DataValidator,
    DateFormat,
    Email,
    IssueSeverity,
    NumericRange,
    Required,
    Rule,
    RuleDefinitionError,
    StringLength,
    TypeIs,
    ValidationReport,
)


def issues_of(report: ValidationReport) -> list[tuple[str, str, str]]:
    return [(i.field, i.rule, i.severity.value) for i in report.issues]


# -- Required ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("record", "message"),
    [({}, "is missing"), ({"id": None}, "is null"), ({"id": "  "}, "is empty")],
)
def test_required_reports_missing_null_and_blank(record: dict[str, Any], message: str) -> None:
    report = DataValidator([Required("id")]).validate(record)
    assert not report.ok
    [issue] = report.errors
    assert (issue.field, issue.rule, issue.message) == ("id", "required", message)


def test_required_accepts_present_values_including_zero_and_blank_when_allowed() -> None:
    assert DataValidator([Required("id")]).validate({"id": 0}).ok
    assert DataValidator([Required("note", allow_empty=True)]).validate({"note": ""}).ok


# -- TypeIs --------------------------------------------------------------------------
def test_type_is_reports_the_expected_and_actual_type() -> None:
    report = DataValidator([TypeIs("id", int)]).validate({"id": "42"})
    [issue] = report.errors
    assert issue.rule == "type"
    assert issue.message == "expected int, got str '42'"


def test_type_is_refuses_bool_as_a_number_but_widens_int_to_float() -> None:
    validator = DataValidator([TypeIs("qty", float), TypeIs("n", int), TypeIs("flag", bool)])
    assert validator.validate({"qty": 3, "n": 3, "flag": True}).ok
    report = validator.validate({"qty": True, "n": False, "flag": 1})
    assert issues_of(report) == [
        ("qty", "type", "error"),
        ("n", "type", "error"),
        ("flag", "type", "error"),
    ]


def test_type_is_accepts_a_tuple_of_types() -> None:
    validator = DataValidator([TypeIs("code", (int, str))])
    assert validator.validate({"code": 7}).ok
    assert validator.validate({"code": "A7"}).ok
    assert (
        validator.validate({"code": 7.5}).errors[0].message == "expected int or str, got float 7.5"
    )


def test_null_field_with_a_type_rule_warns_leniently_and_fails_strictly() -> None:
    rules = [TypeIs("qty", float)]
    lenient = DataValidator(rules).validate({"qty": None})
    strict = DataValidator(rules, strict=True).validate({"qty": None})
    assert lenient.ok
    assert [(w.field, w.message) for w in lenient.warnings] == [("qty", "is null")]
    assert not strict.ok
    assert [(e.field, e.message) for e in strict.errors] == [("qty", "is null")]


def test_nullable_type_rule_accepts_null_even_strictly() -> None:
    report = DataValidator([TypeIs("qty", float, nullable=True)], strict=True).validate(
        {"qty": None}
    )
    assert report.ok
    assert report.issues == ()


def test_required_null_is_reported_once_not_again_by_the_type_rule() -> None:
    report = DataValidator([Required("id"), TypeIs("id", int)]).validate({"id": None})
    assert issues_of(report) == [("id", "required", "error")]


# -- StringLength --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ab", "length 2 is below the minimum 3"),
        ("abcdef", "length 6 is above the maximum 5"),
        (12345, "expected a string, got int"),
    ],
)
def test_string_length_bounds(value: Any, message: str) -> None:
    validator = DataValidator([StringLength("code", min=3, max=5)])
    assert validator.validate({"code": "abc"}).ok
    assert validator.validate({"code": "abcde"}).ok
    [issue] = validator.validate({"code": value}).errors
    assert (issue.rule, issue.message) == ("length", message)


# -- NumericRange --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "-1 is below the minimum 0"),
        (Decimal("100.5"), "Decimal('100.5') is above the maximum 100"),
        (float("nan"), "is NaN"),
        ("7", "expected a number, got str '7'"),
        (True, "expected a number, got bool True"),
    ],
)
def test_numeric_range_bounds_and_non_numbers(value: Any, message: str) -> None:
    validator = DataValidator([NumericRange("qty", min=0, max=100)])
    for good in (0, 100, 42.5, Decimal("99.99")):
        assert validator.validate({"qty": good}).ok, good
    [issue] = validator.validate({"qty": value}).errors
    assert (issue.rule, issue.message) == ("range", message)


def test_numeric_range_with_one_bound() -> None:
    validator = DataValidator([NumericRange("qty", min=0)])
    assert validator.validate({"qty": 10**12}).ok
    assert not validator.validate({"qty": -0.001}).ok


# -- AllowedValues -------------------------------------------------------------------
def test_allowed_values_lists_the_choices() -> None:
    validator = DataValidator([AllowedValues("status", ["OPEN", "CLOSED"])])
    assert validator.validate({"status": "OPEN"}).ok
    [issue] = validator.validate({"status": "open"}).errors
    assert (issue.rule, issue.message) == ("allowed", "'open' is not one of 'OPEN', 'CLOSED'")


def test_allowed_values_does_not_confuse_true_with_one() -> None:
    validator = DataValidator([AllowedValues("level", [0, 1, 2])])
    assert validator.validate({"level": 1}).ok
    assert not validator.validate({"level": True}).ok


# -- DateFormat ----------------------------------------------------------------------
def test_date_format_with_strptime_format() -> None:
    validator = DataValidator([DateFormat("day", "%d/%m/%Y")])
    assert validator.validate({"day": "31/12/2024"}).ok
    assert validator.validate({"day": date(2024, 12, 31)}).ok
    [issue] = validator.validate({"day": "2024-12-31"}).errors
    assert (issue.rule, issue.message) == (
        "date_format",
        "'2024-12-31' does not match format %d/%m/%Y",
    )
    assert validator.validate({"day": "31/02/2024"}).errors[0].rule == "date_format"
    assert (
        validator.validate({"day": 20241231}).errors[0].message == "expected a date string, got int"
    )


@pytest.mark.parametrize(
    "value",
    ["2024-05-01", "2024-05-01T10:20:30", "2024-05-01T10:20:30.123Z", "2024-05-01T10:20:30+01:00"],
)
def test_iso_8601_dates_are_accepted(value: str) -> None:
    assert DataValidator([DateFormat("mod_ts", ISO_8601)]).validate({"mod_ts": value}).ok


def test_iso_8601_rejects_non_dates_and_accepts_datetime_objects() -> None:
    validator = DataValidator([DateFormat("mod_ts", ISO_8601)])
    assert not validator.validate({"mod_ts": "yesterday"}).ok
    assert not validator.validate({"mod_ts": "2024-13-01"}).ok
    assert validator.validate({"mod_ts": datetime.now(timezone.utc)}).ok


# -- Email ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value", ["ops@gruponos.example", "first.last+etl@sub.example.com.br", "a_b@x.io"]
)
def test_email_accepts_plausible_addresses(value: str) -> None:
    assert DataValidator([Email("contact")]).validate({"contact": value}).ok


@pytest.mark.parametrize(
    "value",
    ["no-at-sign", "two@@example.com", "a@b", "a b@example.com", ".lead@example.com", "a@-x.com"],
)
def test_email_refuses_implausible_addresses_without_echoing_them(value: str) -> None:
    [issue] = DataValidator([Email("contact")]).validate({"contact": value}).errors
    assert (issue.rule, issue.message) == ("email", "is not a valid e-mail address")
    assert value not in str(issue)


# -- unknown fields, strictness, rule severity --------------------------------------
def test_unknown_fields_warn_leniently_fail_strictly_and_can_be_allowed() -> None:
    rules = [Required("id")]
    record = {"id": 1, "surprise": "x"}
    lenient = DataValidator(rules).validate(record)
    assert lenient.ok
    assert issues_of(lenient) == [("surprise", "unknown", "warning")]
    strict = DataValidator(rules, strict=True).validate(record)
    assert not strict.ok
    assert issues_of(strict) == [("surprise", "unknown", "error")]
    assert DataValidator(rules, strict=True, allow_unknown=True).validate(record).ok
    assert DataValidator(rules, strict=True, known_fields=["surprise"]).validate(record).ok


def test_warning_rules_become_errors_only_in_strict_mode() -> None:
    rules = [StringLength("note", max=3, severity=IssueSeverity.WARNING)]
    assert DataValidator(rules).validate({"note": "long"}).ok
    assert not DataValidator(rules, strict=True).validate({"note": "long"}).ok


def test_absent_optional_field_is_not_checked() -> None:
    validator = DataValidator([NumericRange("qty", min=0), Email("contact")], strict=True)
    assert validator.validate({}).ok


def test_bad_records_are_reported_never_raised() -> None:
    class Hostile:
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("no comparisons")

        __hash__ = object.__hash__

    validator = DataValidator([AllowedValues("v", [1, 2]), Required("id")])
    report = validator.validate({"v": Hostile(), "id": 1})
    assert [(i.field, i.message) for i in report.errors] == [
        ("v", "could not be checked (RuntimeError)")
    ]
    not_a_mapping = validator.validate(["id", 1])
    assert [(i.rule, i.message) for i in not_a_mapping.errors] == [
        ("record", "expected a mapping of fields, got list")
    ]


# -- many records ---------------------------------------------------------------------
def test_validate_many_counts_per_rule_and_marks_records() -> None:
    validator = DataValidator(
        [Required("id"), TypeIs("id", int), AllowedValues("status", ["OPEN", "CLOSED"])]
    )
    records = [
        {"id": 1, "status": "OPEN"},
        {"status": "OPEN"},
        {"id": "2", "status": "LOST"},
        {"id": 3, "status": "CLOSED", "extra": True},
        {"status": "nope"},
    ]

    report = validator.validate_many(records)

    assert report.records == 5
    assert report.invalid_records == 3
    assert report.error_count == 5
    assert report.warning_count == 1
    assert not report.ok
    assert report.counts_by_rule == {"required": 2, "type": 1, "allowed": 2, "unknown": 1}
    assert report.counts_by_field_rule == {
        "id:required": 2,
        "id:type": 1,
        "status:allowed": 2,
        "extra:unknown": 1,
    }
    assert [i.record for i in report.errors] == [1, 2, 2, 4, 4]
    assert report.summary() == (
        "5 records, 3 invalid: 5 error(s), 1 warning(s) "
        "(allowed: 2, required: 2, type: 1, unknown: 1)"
    )
    json.dumps(report.to_dict())  # JSON-ready


def test_validate_many_caps_kept_issues_but_keeps_exact_counts() -> None:
    validator = DataValidator([Required("id")])
    report = validator.validate_many(({} for _ in range(50)), max_issues=10)
    assert report.records == 50
    assert report.error_count == 50
    assert report.counts_by_rule == {"required": 50}
    assert len(report.issues) == 10
    assert report.truncated


def test_validate_many_of_nothing_is_ok() -> None:
    report = DataValidator([Required("id")]).validate_many([])
    assert report.ok
    assert report.records == 0


# -- bad rule definitions -------------------------------------------------------------
@pytest.mark.parametrize(
    ("build", "complaint"),
    [
        (lambda: Required(""), "needs a field name"),
        (lambda: TypeIs("x", "int"), "must be a type"),
        (lambda: StringLength("x"), "give min, max or both"),
        (lambda: StringLength("x", min=5, max=2), "min 5 > max 2"),
        (lambda: StringLength("x", min=-1), "int >= 0"),
        (lambda: NumericRange("x"), "give min, max or both"),
        (lambda: NumericRange("x", min=10, max=1), "min 10 > max 1"),
        (lambda: NumericRange("x", min="0"), "must be a number"),
        (lambda: AllowedValues("x", []), "values is empty"),
        (lambda: AllowedValues("x", "ABC"), "must be a collection"),
        (lambda: DateFormat("x", "YYYY-MM-DD"), "no % directive"),
        (lambda: DateFormat("x", "%Y-%Q"), "bad directive"),
        (lambda: Required("x", severity="fatal"), "'error' or 'warning'"),
        (lambda: DataValidator(["id"]), "not a validation rule"),
        (lambda: DataValidator([Rule("id")]), "does not implement check"),
    ],
)
def test_bad_rule_definitions_raise_at_construction(build: Any, complaint: str) -> None:
    with pytest.raises(RuleDefinitionError, match=complaint) as caught:
        build()
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, GruponosError)
    assert caught.value.code == "INVALID_VALIDATION_RULE"


def test_rules_are_immutable() -> None:
    rule = Required("id")
    with pytest.raises(AttributeError):
        rule.field = "other"  # type: ignore[misc]


# -- the WMS default rule set --------------------------------------------------------
def test_wms_rule_set_accepts_a_typical_allocation_row() -> None:
    row = {
        "id": 981_234,
        "create_ts": "2024-05-01T08:00:00.000-03:00",
        "mod_ts": "2024-05-01T09:30:12.345-03:00",
        "create_user": "WMS_BATCH",
        "alloc_qty": 12.0,
        "status_id": 90,
        "order_dtl_id": {"id": 77},
    }
    report = DataValidator.for_wms_records(strict=True).validate(row)
    assert report.ok, report.issues


def test_wms_rule_set_catches_the_usual_breakages() -> None:
    rows = [
        {"mod_ts": "2024-05-01T09:30:12Z"},  # no id
        {"id": "981", "mod_ts": "2024-05-01T09:30:12Z"},  # id as text
        {"id": 1, "mod_ts": "01/05/2024"},  # not ISO
        {"id": 2, "mod_ts": "2024-05-01", "alloc_qty": -5},  # negative quantity
        {"id": 3, "mod_ts": "2024-05-01", "ord_qty": None},  # nullable quantity: fine
    ]
    report = DataValidator.for_wms_records(strict=True).validate_many(rows)
    assert report.invalid_records == 4
    assert report.counts_by_field_rule == {
        "id:required": 1,
        "id:type": 1,
        "mod_ts:date_format": 1,
        "alloc_qty:range": 1,
    }
