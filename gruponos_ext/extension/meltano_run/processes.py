"""The Meltano processes above this one: the ``meltano run`` that owns a run, and
the Meltano that invoked the extension (Linux ``/proc``).

A command block's parent is normally the ``meltano run`` process that
started it, but anything may sit in between (``timeout``, ``sh -c``, a
custom executable), so the ancestry is walked up to the first process whose
command line is a Meltano invocation. That process lives as long as the
run: it owns the run's lock.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

from gruponos_ext.core.procfs import cmdline, cwd, environ_value, stat_fields
from gruponos_ext.extension.meltano_run.argv import MeltanoCommandLine, parse_meltano_argv

__all__ = ["MeltanoProcess", "ancestors", "find_meltano", "meltano_program"]

_MAX_DEPTH = 64


@dataclass(frozen=True)
class MeltanoProcess:
    """A running Meltano: its pid and what its command line says."""

    pid: int
    command_line: MeltanoCommandLine


def _parent(pid: int) -> int | None:
    fields = stat_fields(pid)  # state, ppid, ...
    try:
        return int(fields[1]) if fields is not None else None
    except ValueError:
        return None


def ancestors(start: int | None = None) -> Iterator[int]:
    """``start`` (default: our parent) and its ancestors, nearest first, up to init."""
    pid: int | None = os.getppid() if start is None else start
    for _ in range(_MAX_DEPTH):
        if pid is None or pid <= 1:
            return
        yield pid
        pid = _parent(pid)


def find_meltano(*, run_only: bool, start: int | None = None) -> MeltanoProcess | None:
    """The nearest Meltano process above us (only a ``meltano run`` with ``run_only``)."""
    for pid in ancestors(start):
        line = parse_meltano_argv(cmdline(pid))
        if line is not None and (line.is_run or not run_only):
            return MeltanoProcess(pid, line)
    return None


def _absolute(path: str, pid: int) -> str:
    """``path`` as the process ``pid`` meant it (relative to its working directory)."""
    if os.path.isabs(path):
        return path
    if os.sep not in path:  # a bare name, found on that process's PATH
        return shutil.which(path, path=_environ_path(pid)) or path
    directory = cwd(pid)
    if directory is None:
        return os.path.abspath(path)
    return os.path.normpath(os.path.join(directory, path))


def _environ_path(pid: int) -> str | None:
    return environ_value(pid, "PATH") or os.environ.get("PATH")


def meltano_program(process: MeltanoProcess) -> tuple[str, ...]:
    """How to start the Meltano of ``process`` again, as absolute paths.

    A script run by its interpreter (``python /v/bin/meltano``) is started
    as the script itself when it is executable, so its shebang picks the
    same virtual environment.
    """
    program = [
        _absolute(part, process.pid) if i == 0 or "/" in part else part
        for i, part in enumerate(process.command_line.program)
    ]
    if len(program) == 2 and os.access(program[1], os.X_OK):
        return (program[1],)
    return tuple(program)
