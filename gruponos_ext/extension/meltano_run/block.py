"""Who a preflight/dispose block is: its job, the process that owns its run.

:func:`identify_block` is what the ``preflight`` and ``dispose`` commands
ask. The job is the ``--job`` given (explicit wins), else inferred from the
``meltano run`` above this process (:mod:`.attribution`). The owner is that
``meltano run`` process; without one, inside a run context (a test or a
hand-made runner setting ``MELTANO_PARENT_CONTEXT_UUID``) our parent, and
outside any run this process itself (its lock is reclaimable when it exits).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.names import check_name
from gruponos_ext.extension.meltano_run.attribution import (
    BlockLog,
    job_blocks,
    lifecycle_blocks,
    pick,
    utility_commands,
)
from gruponos_ext.extension.meltano_run.processes import MeltanoProcess, find_meltano
from gruponos_ext.services.orchestrator.context import GUARD_CONTEXT_ENV, PARENT_CONTEXT_ENV

__all__ = ["DEFAULT_UTILITY", "JobNotInferredError", "RunBlock", "identify_block"]

DEFAULT_UTILITY = "gruponos-infra"


class JobNotInferredError(GruponosError):
    """A bare preflight/dispose block whose job cannot be told (exit 2: name it)."""

    code = "JOB_NOT_INFERRED"
    exit_code = 2


@dataclass(frozen=True)
class RunBlock:
    """The job a block acts for, the pid owning its run, and how the job was found."""

    job: str
    owner_pid: int
    how: str  # "explicit", "job", "inline"


def _utility(env: Mapping[str, str]) -> str:
    return env.get("MELTANO_UTILITY_NAME") or DEFAULT_UTILITY


def _explain(role: str, reason: str, utility: str) -> str:
    return (
        f"cannot tell which job this {role} block belongs to: {reason}. Name it explicitly: "
        f"`gruponos_extension {role} --job JOB`, or in meltano.yml a command "
        f"`{role}-JOB: {role} --job JOB` used as the block `{utility}:{role}-JOB`"
    )


def identify_block(
    role: str,
    job: str | None,
    *,
    state_dir: Path | None,
    project_root: Path | None,
    env: Mapping[str, str] | None = None,
) -> RunBlock:
    """The :class:`RunBlock` of a ``role`` block (``preflight`` or ``dispose``).

    Raises :class:`JobNotInferredError` when no ``job`` is given and it
    cannot be inferred, and :class:`~gruponos_ext.core.names.InvalidNameError`
    for a job name that can never be one.
    """
    environ = os.environ if env is None else env
    in_run = bool(environ.get(GUARD_CONTEXT_ENV) or environ.get(PARENT_CONTEXT_ENV))
    owner = find_meltano(run_only=True) if in_run else None
    owner_pid = owner.pid if owner else (os.getppid() if in_run else os.getpid())
    if job is not None:
        check_name(job, what="job", option="--job")
    utility = _utility(environ)
    if owner is None:
        if job is None:
            where = "it is not run as a block of `meltano run`"
            raise JobNotInferredError(_explain(role, where, utility))
        return RunBlock(job, owner_pid, "explicit")
    inferred = _from_meltano_run(role, owner, state_dir, project_root, environ, explicit=job)
    if job is not None:
        return RunBlock(job, owner_pid, "explicit")
    if isinstance(inferred, str):
        raise JobNotInferredError(_explain(role, inferred, utility))
    lock, how = inferred
    check_name(lock, what="job")
    return RunBlock(lock, owner_pid, how)


def _from_meltano_run(
    role: str,
    owner: MeltanoProcess,
    state_dir: Path | None,
    project_root: Path | None,
    env: Mapping[str, str],
    *,
    explicit: str | None,
) -> tuple[str, str] | str:
    """(lock, how) of the running block per the ``meltano run`` command line, or why not.

    Also notes the block in the run's block log when the run has lifecycle
    blocks for more than one lock (explicit ones too, so later blocks count
    right).
    """
    if project_root is None:
        return "the Meltano project root is unknown (MELTANO_PROJECT_ROOT is not set)"
    from gruponos_ext.project import read_model

    utility = _utility(env)
    model, _ = read_model(project_root)  # what meltano.yml does not say is validate's to report
    blocks = lifecycle_blocks(
        owner.command_line.arguments,
        job_blocks(model),
        utility,
        utility_commands(model, utility),
    )
    log = None
    if state_dir is not None and len({b.lock for b in blocks}) > 1:
        log = BlockLog.for_run(state_dir, f"{owner.pid}-{env.get(PARENT_CONTEXT_ENV, '')}")
    chosen = pick(blocks, role, log.count(role) if log is not None else None)
    if log is not None:
        index = next((i for i, b in enumerate(blocks) if b is chosen), None)
        lock = explicit or (chosen.lock if not isinstance(chosen, str) else None)
        if lock is not None:
            log.append(role, lock, last=index == len(blocks) - 1)
    if isinstance(chosen, str):
        return chosen
    return chosen.lock, chosen.source
