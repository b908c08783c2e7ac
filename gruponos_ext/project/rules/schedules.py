"""Rules for schedules: what they run, and an interval Meltano accepts.

Meltano reads a schedule with a (non-empty) ``job`` as a job schedule and
anything else as a legacy ``meltano elt`` schedule, which must name an
extractor, a loader and ``transform``; it refuses to load the project when a
schedule lacks one of those or ``interval``. Intervals are checked by
:mod:`..cron.validity`, which applies Meltano's own rules.
"""

from __future__ import annotations

from gruponos_ext.project.build import did_you_mean
from gruponos_ext.project.cron.validity import interval_problem
from gruponos_ext.project.model import Schedule, type_noun
from gruponos_ext.project.rules.context import RuleContext

__all__ = ["SCHEDULE_KEYS", "check"]

SCHEDULE_KEYS = frozenset(
    {
        "name",
        "interval",
        "job",
        "extractor",
        "loader",
        "transform",
        "env",
        "start_date",
        "annotations",
    }
)
"""Keys of a schedule entry Meltano reads (meltano.schema.json)."""


def check(context: RuleContext) -> None:
    """Every schedule rule, in file order."""
    first: dict[str, Schedule] = {}
    for schedule in context.model.schedules:
        earlier = first.setdefault(schedule.name, schedule)
        if earlier is not schedule and "meltano.yml" in (earlier.where.file, schedule.where.file):
            context.add(
                "SCHEDULE_DUPLICATE",
                schedule.where,
                f"schedule name '{schedule.name}' is already used ({earlier.where.file}: "
                f"{earlier.where.key_path})",
            )
    for schedule in context.model.schedules:
        _check_one(context, schedule)


def _check_one(context: RuleContext, schedule: Schedule) -> None:
    model = context.model
    where, definition, label = schedule.where, schedule.definition, f"schedule '{schedule.name}'"
    for key in definition:
        if key not in SCHEDULE_KEYS:
            context.add(
                "SCHEDULE_UNKNOWN_KEY",
                where.at(key),
                f"{label}: Meltano ignores '{key}'{did_you_mean(str(key), SCHEDULE_KEYS)}",
            )
    if schedule.kind == "job":
        if "extractor" in definition or "loader" in definition:
            context.add(
                "SCHEDULE_JOB_AND_ELT",
                where,
                f"{label} names both a job and an extractor/loader: Meltano runs the job and "
                "ignores the extractor/loader",
            )
        assert schedule.job is not None
        if model.job(schedule.job) is None:
            jobs = [job.name for job in model.jobs]
            context.add(
                "SCHEDULE_UNKNOWN_JOB",
                where.at("job"),
                f"{label} runs job '{schedule.job}', which does not exist"
                f"{did_you_mean(schedule.job, jobs)}",
            )
    else:
        _check_elt(context, schedule)
    if "interval" not in definition:
        context.add(
            "SCHEDULE_INTERVAL_MISSING",
            where,
            f"{label} has no interval: Meltano refuses to load the project (use '@manual' "
            "for a schedule run only by hand)",
        )
        return
    raw = definition.get("interval")
    if raw is None:
        context.add(
            "SCHEDULE_INTERVAL_EMPTY",
            where.at("interval"),
            f"{label} has an empty interval: no orchestrator runs it by time (write '@manual' "
            "to say so)",
        )
        return
    problem = interval_problem(raw)
    if problem is not None:
        context.add(
            "SCHEDULE_INTERVAL_INVALID",
            where.at("interval"),
            f"{label}: interval '{raw}': {problem}",
        )


def _check_elt(context: RuleContext, schedule: Schedule) -> None:
    """The legacy ``meltano elt`` form: ``extractor``, ``loader`` and ``transform``."""
    model = context.model
    where, definition, label = schedule.where, schedule.definition, f"schedule '{schedule.name}'"
    missing = [k for k in ("extractor", "loader", "transform") if k not in definition]
    if "extractor" in missing and "loader" in missing:
        context.add(
            "SCHEDULE_ELT_INCOMPLETE",
            where,
            f"{label} names no job (nor an extractor and a loader)",
        )
        return
    if missing:
        context.add(
            "SCHEDULE_ELT_INCOMPLETE",
            where,
            f"{label} has no job, so Meltano reads it as an extractor/loader schedule, which "
            f"needs {', '.join(missing)}: Meltano refuses to load the project",
        )
    for key, plugin_type in (("extractor", "extractors"), ("loader", "loaders")):
        if key not in definition:
            continue
        value = definition.get(key)
        if isinstance(value, str) and model.plugin(plugin_type, value) is not None:
            continue
        others = model.plugins_named(str(value))
        if others:
            problem = f"{others[0].label}, not a {type_noun(plugin_type)}"
        else:
            candidates = [p.name for p in model.plugins_of_type(plugin_type)]
            problem = f"unknown {key} '{value}'{did_you_mean(str(value), candidates)}"
        context.add("SCHEDULE_UNKNOWN_PLUGIN", where.at(key), f"{label} names {problem}")
    transform = definition.get("transform")
    if "transform" in definition and transform not in ("run", "skip", "only"):
        context.add(
            "SCHEDULE_TRANSFORM_INVALID",
            where.at("transform"),
            f"{label}: transform must be run, skip or only",
        )
