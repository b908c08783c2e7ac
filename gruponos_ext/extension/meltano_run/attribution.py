"""Which job a bare ``preflight`` / ``dispose`` block belongs to.

``meltano run`` expands each job named on its command line into the job's
blocks and runs all blocks strictly in order. From that command line and
the project's model (:mod:`gruponos_ext.project`) this module lists the
run's *lifecycle blocks* (this utility's preflight and dispose blocks) in
order, each with the lock it stands for:

* the ``--job`` its command gives (explicit, wins);
* else the job it came from;
* else (an inline block) ``inline:`` and the other blocks it brackets,
  e.g. ``inline:tap-x+target-y``.

A running block knows its role but not its position. When every block of
that role stands for the same lock, the position does not matter. When they
differ (``meltano run job-a job-b``), the *block log* of this ``meltano
run`` (one small file per run context in the state directory, a line per
lifecycle block that ran) tells how many blocks of the role ran before this
one. Blocks of one ``meltano run`` run one after another, so the count is
exact. When neither tells, the block says so; it never guesses.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gruponos_ext.core.names import path_component

if TYPE_CHECKING:
    from gruponos_ext.project.model import ProjectModel

__all__ = [
    "BlockLog",
    "LifecycleBlock",
    "job_blocks",
    "lifecycle_blocks",
    "pick",
    "utility_commands",
]

ROLES = ("preflight", "dispose")
_LOG_RETENTION_S = 7 * 86400


@dataclass(frozen=True)
class LifecycleBlock:
    """One preflight or dispose block of this utility in a ``meltano run``."""

    role: str
    lock: str
    source: str  # "explicit", "job" or "inline"
    text: str  # the block as written, e.g. "gruponos-infra:preflight"


def job_blocks(model: ProjectModel | None) -> dict[str, list[str]]:
    """Each job's blocks as ``meltano run JOB`` runs them (the first job of a name wins)."""
    jobs: dict[str, list[str]] = {}
    for job in model.jobs if model is not None else ():
        jobs.setdefault(job.name, [block.text for block in job.blocks])
    return jobs


def utility_commands(model: ProjectModel | None, utility: str) -> dict[str, str]:
    """The args of each command of the utility ``utility`` (own or inherited)."""
    plugin = model.plugin("utilities", utility) if model is not None else None
    if model is None or plugin is None:
        return {}
    return {
        name: command.args
        for name, command in model.commands_of(plugin).items()
        if command.args is not None
    }


def _role_and_job(args: str) -> tuple[str | None, str | None]:
    try:
        tokens = shlex.split(args)
    except ValueError:
        return None, None
    if not tokens or tokens[0] not in ROLES:
        return None, None
    job = None
    for index, token in enumerate(tokens[1:], start=1):
        if token == "--job" and index + 1 < len(tokens):
            job = tokens[index + 1]
        elif token.startswith("--job="):
            job = token.partition("=")[2]
    return tokens[0], job


def lifecycle_blocks(
    arguments: Sequence[str],
    jobs: Mapping[str, Sequence[str]],
    utility: str,
    commands: Mapping[str, str],
) -> list[LifecycleBlock]:
    """The lifecycle blocks of ``meltano run ARGUMENTS``, in the order they run.

    ``jobs`` maps job names to their flat blocks; ``commands`` maps this
    utility's command names to their args (a command not defined there is
    taken by its name: ``preflight`` runs ``preflight``).

    >>> jobs = {"a": ["infra:preflight", "tap", "target", "infra:dispose"]}
    >>> [(b.role, b.lock) for b in lifecycle_blocks(
    ...     ["a", "infra:preflight", "tap-x", "target-y", "infra:dispose"], jobs, "infra", {})]
    [('preflight', 'a'), ('dispose', 'a'), ('preflight', 'inline:tap-x+target-y'), \
('dispose', 'inline:tap-x+target-y')]
    """
    expanded: list[tuple[str, str | None]] = []
    for argument in arguments:
        if argument in jobs:
            expanded += [(block, argument) for block in jobs[argument]]
        else:
            expanded.append((argument, None))
    roles: list[tuple[str | None, str | None]] = []
    for block, _ in expanded:
        name, _, command = block.partition(":")
        if name == utility and command:
            roles.append(_role_and_job(commands.get(command, command)))
        else:
            roles.append((None, None))
    found = []
    for index, ((block, job), (role, explicit)) in enumerate(zip(expanded, roles, strict=True)):
        if role is None:
            continue
        if explicit:
            found.append(LifecycleBlock(role, explicit, "explicit", block))
        elif job is not None:
            found.append(LifecycleBlock(role, job, "job", block))
        else:
            found.append(
                LifecycleBlock(role, _inline_name(expanded, roles, index), "inline", block)
            )
    return found


def _inline_name(
    expanded: Sequence[tuple[str, str | None]],
    roles: Sequence[tuple[str | None, str | None]],
    index: int,
) -> str:
    """``inline:`` + the blocks a lifecycle block brackets (after a preflight, before a dispose)."""
    step = 1 if roles[index][0] == "preflight" else -1
    segment: list[str] = []
    position = index + step
    while 0 <= position < len(expanded) and roles[position][0] is None:
        segment.append(expanded[position][0])
        position += step
    if step < 0:
        segment.reverse()
    if not segment:  # nothing bracketed: name it after every other block of the run
        segment = [block for (block, _), (role, _) in zip(expanded, roles, strict=True) if not role]
    return "inline:" + "+".join(segment or ["(empty)"])


@dataclass(frozen=True)
class BlockLog:
    """The lifecycle blocks that already ran in one ``meltano run`` (a file per run)."""

    path: Path

    @classmethod
    def for_run(cls, state_dir: Path, run_key: str) -> BlockLog:
        return cls(state_dir / "blocks" / f"{path_component(run_key)}.log")

    def entries(self) -> list[tuple[str, str]]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        return [(role, lock) for role, _, lock in (line.partition(" ") for line in lines)]

    def count(self, role: str) -> int:
        return sum(1 for logged_role, _ in self.entries() if logged_role == role)

    def append(self, role: str, lock: str, *, last: bool) -> None:
        """Note that a block ran; the last block of the run removes the log."""
        try:
            if last:
                self.path.unlink(missing_ok=True)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._prune()
            with self.path.open("a", encoding="utf-8") as stream:
                stream.write(f"{role} {lock}\n")
        except OSError:
            pass  # then a later block cannot tell its position, and says so

    def _prune(self) -> None:
        """Logs of runs that died before their last block; kept a week."""
        cutoff = time.time() - _LOG_RETENTION_S
        for old in self.path.parent.glob("*.log"):
            try:
                if old.stat().st_mtime < cutoff:
                    old.unlink()
            except OSError:
                continue


def pick(blocks: Sequence[LifecycleBlock], role: str, done: int | None) -> LifecycleBlock | str:
    """The block of ``role`` that is running now, or why that cannot be told.

    ``done`` is how many blocks of ``role`` already ran in this run (None:
    unknown).
    """
    candidates = [b for b in blocks if b.role == role]
    if not candidates:
        return f"the `meltano run` command line has no {role} block of this utility"
    if len({b.lock for b in candidates}) == 1:
        return candidates[0]
    locks = ", ".join(dict.fromkeys(b.lock for b in candidates))
    if done is None:
        return f"this `meltano run` has {role} blocks for {locks} and no block log to tell which"
    if done >= len(candidates):
        return f"this `meltano run` has {len(candidates)} {role} blocks ({locks}); all already ran"
    return candidates[done]
