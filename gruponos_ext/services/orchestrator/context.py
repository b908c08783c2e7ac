"""The run context: what ties the preflight, dispose and guard of one run together.

A preflight block and the dispose block of one ``meltano run`` are matched
by their run context: ``MELTANO_PARENT_CONTEXT_UUID`` (the same for every
block of one invocation), or the guard's own context passed down as
``GRUPONOS_RUN_CONTEXT``, which also marks every process of a guarded run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from gruponos_ext.core.names import path_component

__all__ = ["GUARD_CONTEXT_ENV", "PARENT_CONTEXT_ENV", "resolve_context", "workspace_path"]

GUARD_CONTEXT_ENV = "GRUPONOS_RUN_CONTEXT"
"""Set by ``guard`` for its child: inner preflight/dispose blocks join the guard's run."""
PARENT_CONTEXT_ENV = "MELTANO_PARENT_CONTEXT_UUID"
"""Set by Meltano for every block of one ``meltano run`` (one value per invocation)."""


def resolve_context(
    job: str, explicit: str | None = None, env: Mapping[str, str] | None = None
) -> str:
    """The run context of this block: explicit, the guard's, Meltano's, or per job.

    Without any (a plain ``meltano invoke``), ``manual:<job>`` pairs a
    preflight and a dispose of the same job.

    >>> resolve_context("daily", env={"MELTANO_PARENT_CONTEXT_UUID": "c0ffee"})
    'c0ffee'
    >>> resolve_context("daily", env={})
    'manual:daily'
    """
    environ = os.environ if env is None else env
    return (
        explicit
        or environ.get(GUARD_CONTEXT_ENV)
        or environ.get(PARENT_CONTEXT_ENV)
        or f"manual:{job}"
    )


def workspace_path(state_dir: Path, context_id: str, job: str) -> Path:
    """The run workspace of ``job`` in ``context_id``: one directory under ``runs/``.

    One ``meltano run`` of two jobs has one context and two workspaces.

    >>> workspace_path(Path("/s"), "guard:1", "a/b").parent
    PosixPath('/s/runs')
    """
    return state_dir / "runs" / path_component(f"{job}@{context_id}")
