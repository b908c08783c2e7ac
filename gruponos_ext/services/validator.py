"""Rule-based validation of flat records (Singer/WMS rows): issues as data.

A :class:`DataValidator` holds small, immutable rules (:class:`Required`,
:class:`TypeIs`, :class:`StringLength`, :class:`NumericRange`,
:class:`AllowedValues`, :class:`DateFormat`, :class:`Email`) and turns a
record into a :class:`ValidationReport` listing every issue with its field,
rule, message and severity. Bad *records* never raise; bad *rules* raise
:class:`RuleDefinitionError` when they are built.

Semantics: a field that is absent is only reported by :class:`Required`; every
other rule applies to present, non-null values. A null field with a
:class:`TypeIs` rule that is not ``nullable`` is a warning, and fields no rule
mentions are warnings (``unknown``) unless ``allow_unknown``. ``strict=True``
-- what production uses -- turns every warning into an error.
"""

from __future__ import annotations

import builtins
import dataclasses
import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.records import FieldsJson

__all__ = [
    "ISO_8601",
    "AllowedValues",
    "DataValidator",
    "DateFormat",
    "Email",
    "IssueSeverity",
    "NumericRange",
    "Required",
    "Rule",
    "RuleDefinitionError",
    "StringLength",
    "TypeIs",
    "ValidationIssue",
    "ValidationReport",
]

ISO_8601 = "iso8601"
"""A :class:`DateFormat` format meaning ISO 8601 (``2024-05-01``, ``...T10:20:30.5Z``)."""

_VALUE_SHOWN = 40


class IssueSeverity(str, Enum):
    """``error`` makes a record invalid; ``warning`` does not (unless strict)."""

    ERROR = "error"
    WARNING = "warning"


class RuleDefinitionError(GruponosError, ValueError):
    """A rule was defined wrongly (bad bounds, no field, unknown type...)."""

    code = "INVALID_VALIDATION_RULE"


@dataclasses.dataclass(frozen=True, slots=True)
class ValidationIssue(FieldsJson):
    """One problem in one record; ``record`` is its index in ``validate_many``."""

    field: str
    rule: str
    message: str
    severity: IssueSeverity
    record: int | None = None

    def __str__(self) -> str:
        where = f"record {self.record}: " if self.record is not None else ""
        field = self.field or "<record>"
        return f"{where}{field}: {self.message} [{self.rule}, {self.severity.value}]"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _VALUE_SHOWN else text[: _VALUE_SHOWN - 3] + "..."


def _type_name(value: Any) -> str:
    return type(value).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


# -- rules ----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Rule:
    """Base of every rule: the ``field`` it checks and the ``severity`` of its issues.

    Subclasses implement :meth:`check`, called only with present, non-null
    values, returning a message when the value breaks the rule.
    """

    field: str
    severity: IssueSeverity = dataclasses.field(default=IssueSeverity.ERROR, kw_only=True)

    name: ClassVar[str] = "rule"

    def __post_init__(self) -> None:
        if not isinstance(self.field, str) or not self.field.strip():
            raise RuleDefinitionError(
                f"{type(self).__name__} needs a field name, got {self.field!r}"
            )
        try:
            object.__setattr__(self, "severity", IssueSeverity(self.severity))
        except ValueError:
            raise RuleDefinitionError(
                f"{type(self).__name__}({self.field!r}): severity must be 'error' or 'warning', "
                f"got {self.severity!r}"
            ) from None

    def check(self, value: Any) -> str | None:
        """A message when ``value`` (present, not None) breaks the rule, else None."""
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Required(Rule):
    """The field must be present and not null; empty or blank strings count as missing
    unless ``allow_empty``."""

    allow_empty: bool = False

    name: ClassVar[str] = "required"

    def missing(self, record: Mapping[str, Any]) -> str | None:
        """A message when the field is absent, null or (by default) blank."""
        if self.field not in record:
            return "is missing"
        value = record[self.field]
        if value is None:
            return "is null"
        if not self.allow_empty and isinstance(value, str) and not value.strip():
            return "is empty"
        return None

    def check(self, value: Any) -> str | None:
        if not self.allow_empty and isinstance(value, str) and not value.strip():
            return "is empty"
        return None


@dataclasses.dataclass(frozen=True)
class TypeIs(Rule):
    """The value is an instance of ``type`` (a type or a tuple of types).

    ``bool`` is not accepted as ``int``/``float`` unless listed; ``int`` is
    accepted as ``float``. A null value is a warning unless ``nullable``.
    """

    type: builtins.type[Any] | tuple[builtins.type[Any], ...]
    nullable: bool = False

    name: ClassVar[str] = "type"

    def __post_init__(self) -> None:
        Rule.__post_init__(self)
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        if not types or not all(isinstance(t, builtins.type) for t in types):
            raise RuleDefinitionError(
                f"TypeIs({self.field!r}): type must be a type or a tuple of types, "
                f"got {self.type!r}"
            )

    @property
    def types(self) -> tuple[builtins.type[Any], ...]:
        return self.type if isinstance(self.type, tuple) else (self.type,)

    def check(self, value: Any) -> str | None:
        types = self.types
        if isinstance(value, bool):
            ok = bool in types
        elif isinstance(value, int) and float in types:
            ok = True
        else:
            ok = isinstance(value, types)
        if ok:
            return None
        expected = " or ".join(t.__name__ for t in types)
        return f"expected {expected}, got {_type_name(value)} {_show(value)}"


def _check_bound(rule: str, label: str, bound: Any) -> None:
    if bound is not None and (
        not _is_number(bound) or (isinstance(bound, float) and math.isnan(bound))
    ):
        raise RuleDefinitionError(f"{rule}: {label} must be a number, got {bound!r}")


def _check_range(rule: str, low: Any, high: Any) -> None:
    """Refuse a range without bounds, or with ``low`` above ``high``."""
    if low is None and high is None:
        raise RuleDefinitionError(f"{rule}: give min, max or both")
    if low is not None and high is not None and low > high:
        raise RuleDefinitionError(f"{rule}: min {low} > max {high}")


def _outside(shown: str, value: Any, low: Any, high: Any) -> str | None:
    """Why ``value`` (``shown`` in the message) lies outside ``[low, high]``; None inside."""
    if low is not None and value < low:
        return f"{shown} is below the minimum {low}"
    if high is not None and value > high:
        return f"{shown} is above the maximum {high}"
    return None


@dataclasses.dataclass(frozen=True)
class StringLength(Rule):
    """A string whose length is within ``[min, max]`` (either bound optional)."""

    min: int | None = None
    max: int | None = None

    name: ClassVar[str] = "length"

    def __post_init__(self) -> None:
        Rule.__post_init__(self)
        label = f"StringLength({self.field!r})"
        for bound_name, bound in (("min", self.min), ("max", self.max)):
            if bound is not None and (
                not isinstance(bound, int) or isinstance(bound, bool) or bound < 0
            ):
                raise RuleDefinitionError(
                    f"{label}: {bound_name} must be an int >= 0, got {bound!r}"
                )
        _check_range(label, self.min, self.max)

    def check(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return f"expected a string, got {_type_name(value)}"
        return _outside(f"length {len(value)}", len(value), self.min, self.max)


@dataclasses.dataclass(frozen=True)
class NumericRange(Rule):
    """A number (int, float or Decimal; not bool, not NaN) within ``[min, max]``."""

    min: float | int | Decimal | None = None
    max: float | int | Decimal | None = None

    name: ClassVar[str] = "range"

    def __post_init__(self) -> None:
        Rule.__post_init__(self)
        label = f"NumericRange({self.field!r})"
        _check_bound(label, "min", self.min)
        _check_bound(label, "max", self.max)
        _check_range(label, self.min, self.max)

    def check(self, value: Any) -> str | None:
        if not _is_number(value):
            return f"expected a number, got {_type_name(value)} {_show(value)}"
        if (isinstance(value, float) and math.isnan(value)) or (
            isinstance(value, Decimal) and value.is_nan()
        ):
            return "is NaN"
        return _outside(_show(value), value, self.min, self.max)


@dataclasses.dataclass(frozen=True)
class AllowedValues(Rule):
    """The value is one of ``values`` (compared with ``==``; case-sensitive)."""

    values: Collection[Any] = ()

    name: ClassVar[str] = "allowed"

    def __post_init__(self) -> None:
        Rule.__post_init__(self)
        if isinstance(self.values, (str, bytes)) or not isinstance(self.values, Iterable):
            raise RuleDefinitionError(
                f"AllowedValues({self.field!r}): values must be a collection, got {self.values!r}"
            )
        values = tuple(self.values)
        if not values:
            raise RuleDefinitionError(f"AllowedValues({self.field!r}): values is empty")
        object.__setattr__(self, "values", values)

    def check(self, value: Any) -> str | None:
        if any(_same(value, allowed) for allowed in self.values):
            return None
        shown = ", ".join(_show(v) for v in list(self.values)[:10])
        more = ", ..." if len(self.values) > 10 else ""
        return f"{_show(value)} is not one of {shown}{more}"


def _same(value: Any, allowed: Any) -> bool:
    # True == 1 in Python; in data a flag is not a count.
    if isinstance(value, bool) or isinstance(allowed, bool):
        return type(value) is type(allowed) and value == allowed
    return bool(value == allowed)


def _parse_iso(text: str) -> None:
    stamp = text.strip()
    # Python 3.10's fromisoformat() does not read a "Z" suffix.
    if stamp.endswith(("Z", "z")):
        stamp = stamp[:-1] + "+00:00"
    datetime.fromisoformat(stamp)


@dataclasses.dataclass(frozen=True)
class DateFormat(Rule):
    """A string parsed by ``datetime.strptime(value, fmt)``, or ISO 8601 with
    ``fmt=ISO_8601``; ``date``/``datetime`` objects pass as already parsed."""

    fmt: str = "%Y-%m-%d"

    name: ClassVar[str] = "date_format"

    def __post_init__(self) -> None:
        Rule.__post_init__(self)
        label = f"DateFormat({self.field!r})"
        if not isinstance(self.fmt, str) or not self.fmt:
            raise RuleDefinitionError(f"{label}: fmt must be a non-empty string")
        if self.fmt == ISO_8601:
            return
        if "%" not in self.fmt:
            raise RuleDefinitionError(f"{label}: fmt {self.fmt!r} has no % directive")
        sample = datetime(2001, 2, 3, 4, 5, 6).strftime(self.fmt)
        try:
            datetime.strptime(sample, self.fmt)
        except ValueError as exc:
            if "directive" in str(exc):
                raise RuleDefinitionError(f"{label}: {exc}") from None

    def check(self, value: Any) -> str | None:
        if isinstance(value, (date, datetime)):
            return None
        if not isinstance(value, str):
            return f"expected a date string, got {_type_name(value)}"
        try:
            if self.fmt == ISO_8601:
                _parse_iso(value)
            else:
                datetime.strptime(value, self.fmt)
        except ValueError:
            wanted = "an ISO 8601 date/time" if self.fmt == ISO_8601 else f"format {self.fmt}"
            return f"{_show(value)} does not match {wanted}"
        return None


_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


@dataclasses.dataclass(frozen=True)
class Email(Rule):
    """A plausible e-mail address (``local@domain.tld``, at most 254 characters).

    The message does not repeat the value: addresses are personal data.
    """

    name: ClassVar[str] = "email"

    def check(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return f"expected an e-mail address string, got {_type_name(value)}"
        local = value.partition("@")[0]
        if len(value) > 254 or len(local) > 64 or not _EMAIL.match(value):
            return "is not a valid e-mail address"
        return None


# -- report ------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ValidationReport:
    """The issues found in one record or many.

    ``counts_by_rule`` (``{"required": 3}``) and ``counts_by_field_rule``
    (``{"order_id:required": 3}``) count every issue, even when ``issues``
    was capped (``truncated``) by ``validate_many(max_issues=...)``.
    """

    issues: tuple[ValidationIssue, ...]
    records: int
    invalid_records: int
    error_count: int
    warning_count: int
    counts_by_rule: Mapping[str, int]
    counts_by_field_rule: Mapping[str, int]
    strict: bool
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return self.error_count == 0

    @property
    def errors(self) -> tuple[ValidationIssue, ...]:
        return tuple(i for i in self.issues if i.severity is IssueSeverity.ERROR)

    @property
    def warnings(self) -> tuple[ValidationIssue, ...]:
        return tuple(i for i in self.issues if i.severity is IssueSeverity.WARNING)

    def summary(self) -> str:
        """``3 records, 1 invalid: 2 errors, 1 warning (required: 2, unknown: 1)``."""
        counts = ", ".join(f"{rule}: {n}" for rule, n in sorted(self.counts_by_rule.items()))
        detail = f" ({counts})" if counts else ""
        plural = "" if self.records == 1 else "s"
        return (
            f"{self.records} record{plural}, {self.invalid_records} invalid: "
            f"{self.error_count} error(s), {self.warning_count} warning(s){detail}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "strict": self.strict,
            "records": self.records,
            "invalid_records": self.invalid_records,
            "errors": self.error_count,
            "warnings": self.warning_count,
            "counts_by_rule": dict(self.counts_by_rule),
            "counts_by_field_rule": dict(self.counts_by_field_rule),
            "truncated": self.truncated,
            "issues": [i.to_dict() for i in self.issues],
        }


# -- the validator ------------------------------------------------------------------
class DataValidator:
    """Validates flat records against rules; never raises on a bad record.

    ``allow_unknown`` silences the ``unknown`` warning for fields no rule
    names; ``known_fields`` adds fields that need no rule but are expected.
    """

    def __init__(
        self,
        rules: Iterable[Rule],
        *,
        strict: bool = False,
        allow_unknown: bool = False,
        known_fields: Iterable[str] = (),
    ) -> None:
        rules = tuple(rules)
        for rule in rules:
            if not isinstance(rule, Rule):
                raise RuleDefinitionError(f"not a validation rule: {rule!r}")
            if type(rule).check is Rule.check:
                raise RuleDefinitionError(f"{type(rule).__name__} does not implement check()")
        self._rules = rules
        self._strict = strict
        self._allow_unknown = allow_unknown
        self._fields = frozenset(r.field for r in rules) | frozenset(known_fields)
        self._required = frozenset(r.field for r in rules if isinstance(r, Required))
        self._nullable = frozenset(r.field for r in rules if isinstance(r, TypeIs) and r.nullable)

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self._rules

    @property
    def strict(self) -> bool:
        return self._strict

    @property
    def fields(self) -> frozenset[str]:
        """Every field a rule or ``known_fields`` names."""
        return self._fields

    def __repr__(self) -> str:
        return f"DataValidator(rules={len(self._rules)}, strict={self._strict})"

    @classmethod
    def for_wms_records(cls, *, strict: bool = False) -> DataValidator:
        """A small default rule set for GrupoNOS Oracle WMS entity rows.

        Assumes the fields the WMS ``lgfapi`` entities (``allocation``,
        ``order_hdr``, ``order_dtl``) share, as tap-oracle-wms emits them:
        ``id`` (int, required), ``mod_ts`` (ISO 8601, required: the
        incremental replication key), ``create_ts`` (ISO 8601),
        ``create_user``/``mod_user`` (at most 100 characters) and the
        quantities ``alloc_qty``, ``ord_qty``, ``orig_ord_qty`` (numbers >= 0,
        nullable). Entities have many more fields, so unknown ones are allowed.
        """
        rules: list[Rule] = [
            Required("id"),
            TypeIs("id", int),
            Required("mod_ts"),
            DateFormat("mod_ts", ISO_8601),
            DateFormat("create_ts", ISO_8601),
            StringLength("create_user", max=100),
            StringLength("mod_user", max=100),
        ]
        for qty in ("alloc_qty", "ord_qty", "orig_ord_qty"):
            rules += [TypeIs(qty, float, nullable=True), NumericRange(qty, min=0)]
        return cls(rules, strict=strict, allow_unknown=True)

    def validate(self, record: Any) -> ValidationReport:
        """Check one record (a mapping); anything else is reported, not raised."""
        return self._run([record], max_issues=None, indexed=False)

    def validate_many(
        self, records: Iterable[Any], *, max_issues: int | None = 1000
    ) -> ValidationReport:
        """Check every record; ``issues`` keeps the first ``max_issues`` (None: all).

        Counts stay exact past the cap. Issues carry the record's index.
        """
        return self._run(records, max_issues=max_issues, indexed=True)

    def _run(
        self, records: Iterable[Any], *, max_issues: int | None, indexed: bool
    ) -> ValidationReport:
        kept: list[ValidationIssue] = []
        by_rule: Counter[str] = Counter()
        by_field_rule: Counter[str] = Counter()
        errors = warnings = invalid = count = 0
        truncated = False
        for index, record in enumerate(records):
            count += 1
            record_has_error = False
            for issue in self._issues(record, index if indexed else None):
                by_rule[issue.rule] += 1
                by_field_rule[f"{issue.field}:{issue.rule}"] += 1
                if issue.severity is IssueSeverity.ERROR:
                    errors += 1
                    record_has_error = True
                else:
                    warnings += 1
                if max_issues is None or len(kept) < max_issues:
                    kept.append(issue)
                else:
                    truncated = True
            invalid += record_has_error
        return ValidationReport(
            issues=tuple(kept),
            records=count,
            invalid_records=invalid,
            error_count=errors,
            warning_count=warnings,
            counts_by_rule=dict(by_rule),
            counts_by_field_rule=dict(by_field_rule),
            strict=self._strict,
            truncated=truncated,
        )

    def _issue(
        self, field: str, rule: str, message: str, severity: IssueSeverity, index: int | None
    ) -> ValidationIssue:
        if self._strict:
            severity = IssueSeverity.ERROR
        return ValidationIssue(field, rule, message, severity, index)

    def _issues(self, record: Any, index: int | None) -> list[ValidationIssue]:
        if not isinstance(record, Mapping):
            return [
                self._issue(
                    "",
                    "record",
                    f"expected a mapping of fields, got {_type_name(record)}",
                    IssueSeverity.ERROR,
                    index,
                )
            ]
        issues: list[ValidationIssue] = []
        for rule in self._rules:
            try:
                if isinstance(rule, Required):
                    message = rule.missing(record)
                elif rule.field not in record:
                    message = None
                elif record[rule.field] is None:
                    message = self._null_message(rule)
                    if message is not None:
                        issues.append(
                            self._issue(
                                rule.field, rule.name, message, IssueSeverity.WARNING, index
                            )
                        )
                    continue
                else:
                    message = rule.check(record[rule.field])
            except Exception as exc:
                # A value whose == or len() raises must not stop the run.
                message = f"could not be checked ({type(exc).__name__})"
            if message is not None:
                issues.append(self._issue(rule.field, rule.name, message, rule.severity, index))
        if not self._allow_unknown:
            for key in record:
                if key not in self._fields:
                    issues.append(
                        self._issue(
                            str(key),
                            "unknown",
                            "is not a known field",
                            IssueSeverity.WARNING,
                            index,
                        )
                    )
        return issues

    def _null_message(self, rule: Rule) -> str | None:
        # Only a type rule speaks for a null value, and only once Required
        # (which already reported it) and nullable=True are ruled out.
        if (
            isinstance(rule, TypeIs)
            and not rule.nullable
            and rule.field not in self._required
            and rule.field not in self._nullable
        ):
            return "is null"
        return None
