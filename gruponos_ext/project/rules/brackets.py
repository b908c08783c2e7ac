"""Rules for this extension's run blocks: preflight, dispose and guard.

A job's preflight block takes the job's run lock before the first extractor;
its dispose block releases it after the last loader. Meltano gives a block
no arguments, so each job has its own ``preflight-<job>`` / ``dispose-<job>``
commands (``preflight --job <job>``), or uses commands without ``--job``
(the bare ``preflight`` / ``dispose``), which take the job from the
``meltano run`` that invokes them. ``guard <job>`` runs a whole job between a preflight and a
dispose that always runs.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gruponos_ext.project.build import did_you_mean
from gruponos_ext.project.model import Block, Job
from gruponos_ext.project.rules.context import RuleContext

if TYPE_CHECKING:
    from gruponos_ext.project.rules.jobs import ResolvedBlock

__all__ = ["RunBlock", "check_guards", "check_job", "classify"]


@dataclass(frozen=True)
class RunBlock:
    """One of this extension's blocks and what it does to the job's run lock."""

    block: Block
    role: str
    """``preflight``, ``dispose`` or ``guard``."""
    lock: str | None = None
    """The job whose lock it takes or releases (None: not named)."""
    bare: bool = False
    """No ``--job``: the job comes from the ``meltano run`` that invokes the block."""
    guard_job: str | None = None


def classify(
    context: RuleContext, job: Job, blocks: Sequence[ResolvedBlock]
) -> list[RunBlock | None]:
    """The run role of each block (None for a block that is not one of ours)."""
    return [_run_block(context, job, resolved) for resolved in blocks]


def _run_block(context: RuleContext, job: Job, resolved: ResolvedBlock) -> RunBlock | None:
    block = resolved.block
    plugin = resolved.target.plugin
    if block.command is None or not context.is_own(plugin):
        return None
    command = context.model.command(plugin, block.command)
    if command is None or command.args is None:
        return None
    try:
        tokens = shlex.split(command.args)
    except ValueError:
        context.add(
            "COMMAND_ARGS_INVALID",
            block.where,
            f"the args of command '{block.command}' do not parse",
        )
        return None
    if not tokens or tokens[0] not in ("preflight", "dispose", "guard"):
        return None
    role, rest = tokens[0], tokens[1:]
    if role == "guard":
        positional = [t for t in rest if not t.startswith("-")]
        if not positional:
            context.add(
                "GUARD_NO_JOB",
                block.where,
                f"command '{block.command}' runs guard without a job name: a block cannot "
                "pass one, so define e.g. 'guard-<job>: guard <job>'",
            )
            return None
        return RunBlock(block, role, guard_job=positional[0])
    lock = None
    for index, token in enumerate(rest):
        if token == "--job" and index + 1 < len(rest):
            lock = rest[index + 1]
        elif token.startswith("--job="):
            lock = token.partition("=")[2]
    if lock:
        return RunBlock(block, role, lock=lock)
    # Without --job the block takes the job of the `meltano run` that invokes it.
    return RunBlock(block, role, lock=job.name, bare=True)


def check_job(
    context: RuleContext,
    job: Job,
    blocks: Sequence[ResolvedBlock],
    roles: Sequence[RunBlock | None],
) -> None:
    """Preflight before the first tap, dispose after the last target, as a pair."""
    runs = list(enumerate(roles))
    preflights = [(i, r) for i, r in runs if r is not None and r.role == "preflight"]
    disposes = [(i, r) for i, r in runs if r is not None and r.role == "dispose"]
    taps = [i for i, b in enumerate(blocks) if b.kind == "extractors"]
    targets = [i for i, b in enumerate(blocks) if b.kind == "loaders"]
    if preflights and not disposes:
        context.add(
            "PREFLIGHT_WITHOUT_DISPOSE",
            preflights[0][1].block.where,
            f"job '{job.name}' has a preflight block but no dispose block: add one after "
            "the target, or the run lock is held until it goes stale",
        )
    if disposes and not preflights:
        context.add(
            "DISPOSE_WITHOUT_PREFLIGHT",
            disposes[0][1].block.where,
            f"job '{job.name}' has a dispose block but no preflight block before the tap",
        )
    if disposes:
        dispose_tasks = {r.block.where.key_path for _, r in disposes}
        for _, run in preflights:
            if run.bare and run.block.where.key_path not in dispose_tasks:
                context.add(
                    "PREFLIGHT_DISPOSE_SPLIT",
                    run.block.where,
                    f"the bare preflight block '{run.block.text}' of job '{job.name}' has its "
                    "dispose in another task: keep both in the task they bracket",
                )
    if taps:
        first_tap, last_target = blocks[taps[0]], blocks[targets[-1]]
        for index, run in preflights:
            if index > taps[0]:
                context.add(
                    "PREFLIGHT_AFTER_TAP",
                    run.block.where,
                    f"preflight block '{run.block.text}' runs after the tap '{first_tap.text}': "
                    "put it before the tap, so a failed preflight stops the run first",
                )
        for index, run in disposes:
            if index < targets[-1]:
                context.add(
                    "DISPOSE_BEFORE_TARGET",
                    run.block.where,
                    f"dispose block '{run.block.text}' runs before the target "
                    f"'{last_target.text}': put it after the target",
                )
    locks = {r.lock for _, r in preflights if r.lock}
    for _, run in disposes:
        if run.lock and locks and run.lock not in locks:
            taken = ", ".join(sorted(locks))
            context.add(
                "RUN_LOCK_MISMATCH",
                run.block.where,
                f"dispose block '{run.block.text}' releases the run lock of '{run.lock}' "
                f"but the preflight took the lock of '{taken}'",
            )


def check_guards(context: RuleContext, roles: Mapping[str, Sequence[RunBlock | None]]) -> None:
    """A guard block names an existing job and never ends up running its own job."""
    targets = {
        job: [r for r in runs if r is not None and r.guard_job] for job, runs in roles.items()
    }
    known = {job.name for job in context.model.jobs}
    for job_name, guards in targets.items():
        for run in guards:
            assert run.guard_job is not None
            if run.guard_job not in known:
                context.add(
                    "GUARD_UNKNOWN_JOB",
                    run.block.where,
                    f"'{run.block.text}' guards job '{run.guard_job}', which does not exist"
                    f"{did_you_mean(run.guard_job, known)}",
                )
            elif _reaches(run.guard_job, job_name, targets):
                context.add(
                    "GUARD_RECURSION",
                    run.block.where,
                    f"'{run.block.text}' in job '{job_name}' runs job '{run.guard_job}', which "
                    f"runs job '{job_name}' again: endless recursion",
                )


def _reaches(start: str, goal: str, targets: Mapping[str, Sequence[RunBlock]]) -> bool:
    stack, seen = [start], set()
    while stack:
        job = stack.pop()
        if job == goal:
            return True
        if job in seen:
            continue
        seen.add(job)
        stack.extend(r.guard_job for r in targets.get(job, ()) if r.guard_job)
    return False
