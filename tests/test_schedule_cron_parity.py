"""Cron rules agree with Meltano's, and due times with croniter's and cron's own definition.

Meltano 4.4.1 decides which intervals exist (``meltano.core.schedule``:
``is_valid_cron``, the aliases of ``CRON_INTERVALS`` and ``cron_interval``)
but never computes a due time: the orchestrator does (Airflow with croniter,
or the system's cron). So:

* validity and aliases are compared with Meltano's own functions, over
  thousands of generated expressions;
* due times are compared with croniter (what Airflow schedules by) over
  thousands of generated expressions and several reference times, and with
  an independent oracle written here from the cron definition for common
  expressions.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from meltano.core.schedule import CRON_INTERVALS, JobSchedule, is_valid_cron

from gruponos_ext.project.cron import (
    CRON_ALIASES,
    MANUAL_ALIASES,
    CronError,
    CronExpression,
    InvalidScheduleError,
    count_due,
    cron_of,
    latest_due,
    next_due,
)

UTC = timezone.utc

ATOMS = [
    "*", "?", "L", "0", "1", "5", "7", "12", "23", "24", "30", "31", "32", "59", "60",
    "*/5", "*/0", "/5", "1-5", "5-1", "1-5/2", "0-59/15", "1,2,3", "jan", "JAN", "dec",
    "mon", "MON", "fri-mon", "sun", "wed", "7-1", "0-7", "15W", "LW", "5#3", "5L", "x",
    "", "1-", "-5", "1,", "01", "00",
]  # fmt: skip


def ours_valid(expression: str) -> bool:
    try:
        return cron_of(expression) is not None
    except InvalidScheduleError:
        return False


def croniter_valid(expression: str) -> bool:
    from croniter import croniter

    try:
        return bool(croniter.is_valid(expression))
    except Exception:
        return False


FIELD_ATOMS = (
    ["*", "0", "7", "59", "*/5", "*/7", "1-5", "0-59/15", "1,2,3", "10-20/3"],
    ["*", "0", "5", "23", "*/3", "9-17", "1,13", "0-23/6"],
    ["*", "?", "L", "1", "15", "28", "31", "1-7", "1,15", "*/10", "10-20"],
    ["*", "1", "2", "12", "jan", "JUL", "jan-mar", "*/3", "1,6,12"],
    ["*", "?", "0", "1", "6", "7", "mon", "SUN", "mon-fri", "1-5", "0,6", "fri-mon", "*/2"],
)


def generated_expressions(count: int, seed: int) -> list[str]:
    """Mostly well-formed fields, with Meltano's odd and invalid atoms mixed in."""
    rng = random.Random(seed)
    expressions = []
    for _ in range(count):
        length = rng.choice([5] * 8 + [4, 6])
        fields = [
            rng.choice(FIELD_ATOMS[i % 5]) if rng.random() < 0.8 else rng.choice(ATOMS)
            for i in range(length)
        ]
        expressions.append(" ".join(fields))
    return expressions


NAMED = [
    "* * * * *", "0 17 L * *", "0 0 * ? *", "0 0 ? * *", "0 0 * * 7", "0 0 * * fri-mon",
    "0 0 1 JAN *", "60 * * * *", "0 24 * * *", "* * * * * *", "* * * *", "0 0 * * 5#3",
    "0 0 15W * *", "0 0 LW * *", "@reboot", "@every 5m", "0 0 31 2 *", "*/90 * * * *",
    "0 9-17 * * 1-5", "1,x * * * *", "  @Daily  ", "@HOURLY", "",
]  # fmt: skip


@pytest.mark.parametrize("expression", NAMED)
def test_an_interval_is_valid_exactly_when_meltano_accepts_it_and_it_can_be_computed(
    expression: str,
) -> None:
    assert ours_valid(expression) == meltano_and_computable(expression)


def meltano_and_computable(expression: str) -> bool:
    meltano = is_valid_cron(expression) if expression.strip() else False
    return meltano and croniter_valid(CRON_INTERVALS.get(expression.strip().lower()) or expression)


def test_twenty_thousand_generated_intervals_are_judged_as_meltano_and_croniter_judge_them() -> (
    None
):
    expressions = generated_expressions(20000, seed=12)
    disagreements = [e for e in expressions if ours_valid(e) != meltano_and_computable(e)]
    assert disagreements == []
    assert 5000 < sum(map(ours_valid, expressions)) < 15000  # both kinds well represented


def test_meltano_refuses_nothing_we_accept_and_its_loose_extras_are_named() -> None:
    # Where Meltano accepts what no scheduler can compute, the schedule is reported, not guessed.
    loose = [
        e for e in generated_expressions(20000, seed=3) if is_valid_cron(e) and not ours_valid(e)
    ]
    assert loose, "the generator should reach Meltano's loose cases (trailing commas, x-y ranges)"
    assert all(not croniter_valid(e) for e in loose)


@pytest.mark.parametrize("alias", sorted(CRON_INTERVALS))
def test_aliases_mean_what_meltano_says(alias: str) -> None:
    meltano = JobSchedule(name="s", job="j", interval=alias).cron_interval
    assert cron_of(alias) == meltano
    assert cron_of(alias.upper()) == meltano  # is_valid_cron takes any case
    assert (alias in MANUAL_ALIASES) == (meltano is None)


def test_our_alias_table_is_meltanos() -> None:
    assert {k: v for k, v in CRON_INTERVALS.items() if v is not None} == CRON_ALIASES
    assert {k for k, v in CRON_INTERVALS.items() if v is None} == set(MANUAL_ALIASES)


# -- due times: croniter as the oracle ------------------------------------------------

CRONITER_REFERENCES = [
    datetime(2024, 1, 1, 0, 0, tzinfo=UTC),
    datetime(2024, 2, 29, 12, 34, 56, tzinfo=UTC),
    datetime(2024, 5, 15, 12, 0, tzinfo=UTC),
    datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2025, 7, 15, 6, 7, 8, tzinfo=UTC),
]


def croniter_latest(expression: str, at: datetime) -> datetime | str:
    from croniter import croniter

    try:
        found = croniter(expression, at + timedelta(microseconds=1)).get_prev(datetime)
    except Exception as exc:
        return type(exc).__name__
    assert isinstance(found, datetime)
    return found


def croniter_next(expression: str, after: datetime) -> datetime | str:
    from croniter import croniter

    try:
        found = croniter(expression, after).get_next(datetime)
    except Exception as exc:
        return type(exc).__name__
    assert isinstance(found, datetime)
    return found


@pytest.mark.parametrize("seed", [12, 99])
def test_due_times_agree_with_croniter_over_generated_expressions(seed: int) -> None:
    # Only expressions both accept: croniter's readings of wrapping ranges
    # (fri-mon, 30-2), "a-a", "a/n", "L" and full day fields included.
    expressions = [e for e in generated_expressions(3000, seed=seed) if ours_valid(e)]
    assert len(expressions) > 1000
    disagreements = []
    for expression in expressions:
        parsed = CronExpression.parse(expression)
        for reference in CRONITER_REFERENCES:
            try:
                ours: datetime | str = parsed.latest(reference)
                following: datetime | str = parsed.next_after(reference)
            except CronError:
                ours = following = "CroniterBadDateError"
            expected = (
                croniter_latest(expression, reference),
                croniter_next(expression, reference),
            )
            if (ours, following) != expected:
                disagreements.append((expression, reference.isoformat(), expected, ours))
                break
    assert disagreements == []


@pytest.mark.parametrize(
    "expression",
    [
        "0 0 * * fri-mon", "0 23-1 * * *", "0 0 30-2 * *", "0 0 28-3/2 * *", "5-5 * * * *",
        "5-5/2 * * * *", "0 0 * * 7-1", "0 0 * * 0-7", "0 0 * * 3-7", "0 0 * * 7/2",
        "0 0 10/5 * *", "0 0 L * *", "0 0 1-L * *", "0 0 5-L/2 * *", "0 0 L,15 * *",
        "0 0 L * 7", "0 0 */10 * *", "*/5 * */10 */3 0-7", "0 0 15 * 0-6", "0 0 1-31 * */2",
        "0 0 * nov-feb/2 *", "0 0 * * mon-fri/2", "*/90 * * * *", "0 0 31 * *", "0 0 29 2 *",
    ],
)  # fmt: skip
def test_croniters_readings_of_odd_forms_are_kept(expression: str) -> None:
    parsed = CronExpression.parse(expression)
    for reference in CRONITER_REFERENCES:
        assert parsed.latest(reference) == croniter_latest(expression, reference)
        assert parsed.next_after(reference) == croniter_next(expression, reference)


# -- due times: an oracle from the cron definition --------------------------------------

_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NAMES = {3: {m: i + 1 for i, m in enumerate(_MONTHS)}, 4: {d: i for i, d in enumerate(_DAYS)}}


def _value(text: str, index: int) -> int:
    text = text.lower()
    return _NAMES.get(index, {}).get(text, None) if not text.isdigit() else int(text)  # type: ignore[return-value]


def expand(field: str, index: int) -> set[int]:
    low, high = _RANGES[index]
    values: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base in ("*", "?"):
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-")
            start, end = _value(first, index), _value(last, index)
        else:
            start = _value(base, index)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    if index == 4 and 7 in values:
        values = (values - {7}) | {0}
    return values


def day_matches(fields: list[str], sets: list[set[int]], day: datetime) -> bool:
    _, _, dom, month, dow = sets
    if day.month not in month:
        return False
    weekday = (day.weekday() + 1) % 7  # cron: Sunday is 0
    dom_any = fields[2] in ("*", "?")
    dow_any = fields[4] in ("*", "?")
    if dom_any or dow_any:  # only the restricted one counts
        return (dom_any or day.day in dom) and (dow_any or weekday in dow)
    return day.day in dom or weekday in dow  # both restricted: either matches


def oracle_latest(expression: str, at: datetime, horizon_days: int = 3000) -> datetime:
    """The latest minute at or before ``at`` that ``expression`` matches, found by walking back."""
    fields = expression.split()
    sets = [expand(f, i) for i, f in enumerate(fields)]
    minutes, hours = sorted(sets[0], reverse=True), sorted(sets[1], reverse=True)
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    for _ in range(horizon_days):
        if day_matches(fields, sets, day):
            for hour in hours:
                for minute in minutes:
                    moment = day.replace(hour=hour, minute=minute)
                    if moment <= at:
                        return moment
        day -= timedelta(days=1)
    raise AssertionError(f"{expression!r}: no due time within {horizon_days} days")


ARITHMETIC = [
    "* * * * *", "*/5 * * * *", "7 * * * *", "0 */3 * * *", "30 2 * * *", "0 9 * * 1-5",
    "15 10 1 * *", "0 0 1 1 *", "0 12 * * 0", "0 12 * * 7", "5 4 * * sun", "0 0 1,15 * *",
    "0 0 13 * 5", "45 23 * 2 *", "0 6 1-7 * 1", "*/20 8-18 * * mon-fri", "0 0 29 2 *",
    "10 0 * jan,jul *", "59 23 31 12 *", "0 0 * * 6,0", "1-59/7 * * * *", "0 0 28-31 * *",
]  # fmt: skip
REFERENCES = [
    datetime(2024, 1, 1, 0, 0, tzinfo=UTC),
    datetime(2024, 2, 29, 12, 34, 56, tzinfo=UTC),
    datetime(2024, 3, 31, 1, 30, tzinfo=UTC),  # the EU clock change: UTC has none
    datetime(2024, 5, 6, 9, 0, tzinfo=UTC),  # exactly on a due time
    datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2025, 7, 15, 6, 7, 8, 900000, tzinfo=UTC),
]


@pytest.mark.parametrize("expression", ARITHMETIC)
def test_latest_and_next_due_times_agree_with_the_cron_definition(expression: str) -> None:
    for reference in REFERENCES:
        latest = latest_due(expression, reference)
        assert latest == oracle_latest(expression, reference), (expression, reference)
        assert latest.tzinfo == UTC
        following = next_due(expression, latest)
        assert following > reference or following == latest  # never skips a due time
        assert oracle_latest(expression, following) == following
        assert oracle_latest(expression, following - timedelta(minutes=1)) == latest


def test_the_meltano_aliases_compute_as_their_cron_lines() -> None:
    reference = datetime(2024, 5, 15, 13, 7, tzinfo=UTC)
    expected = {
        "@hourly": datetime(2024, 5, 15, 13, 0, tzinfo=UTC),
        "@daily": datetime(2024, 5, 15, 0, 0, tzinfo=UTC),
        "@midnight": datetime(2024, 5, 15, 0, 0, tzinfo=UTC),
        "@weekly": datetime(2024, 5, 12, 0, 0, tzinfo=UTC),  # a Sunday
        "@monthly": datetime(2024, 5, 1, 0, 0, tzinfo=UTC),
        "@yearly": datetime(2024, 1, 1, 0, 0, tzinfo=UTC),
        "@annually": datetime(2024, 1, 1, 0, 0, tzinfo=UTC),
    }
    for alias, due in expected.items():
        cron = cron_of(alias)
        assert cron is not None
        assert latest_due(cron, reference) == due == oracle_latest(cron, reference)


def test_due_times_are_utc_whatever_zone_the_reference_is_in() -> None:
    elsewhere = timezone(timedelta(hours=-5))
    reference = datetime(2024, 5, 15, 20, 30, tzinfo=elsewhere)  # 01:30 UTC next day
    assert latest_due("0 1 * * *", reference) == datetime(2024, 5, 16, 1, 0, tzinfo=UTC)


def test_missed_due_times_are_counted_and_the_count_is_bounded() -> None:
    start = datetime(2024, 5, 1, 8, 0, 3, tzinfo=UTC)
    assert count_due("0 * * * *", start, datetime(2024, 5, 1, 11, 0, tzinfo=UTC)) == 3
    assert count_due("* * * * *", start, start + timedelta(days=30), limit=50) == 50
