"""Run lifecycle: preflight, dispose and guarded runs of Meltano jobs.

One module per responsibility:

* :mod:`.context` -- run contexts and workspaces (what ties one run's blocks together);
* :mod:`.lifecycle` -- :class:`GruponosMeltanoOrchestrator`: preflight, dispose, alerts;
* :mod:`.guard` -- ``guard``: preflight, the supervised run with retries, dispose;
* :mod:`.child` -- one attempt: start, tee, signals, timeout, grace, lost lock;
* :mod:`.supervisor` -- the process between guard and ``meltano run`` (dies with guard);
* :mod:`.process_tree` -- the run's processes, found and stopped as a whole;
* :mod:`.lease` -- lock lease renewal and lost-lock detection;
* :mod:`.outcomes`, :mod:`.exit_codes` -- what happened, as records and exit codes.

Exports are lazy: ``python -m ...supervisor`` imports none of the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gruponos_ext._lazy import lazy_exports

if TYPE_CHECKING:
    from gruponos_ext.services.orchestrator.context import (
        GUARD_CONTEXT_ENV,
        PARENT_CONTEXT_ENV,
        resolve_context,
    )
    from gruponos_ext.services.orchestrator.lifecycle import (
        GruponosMeltanoOrchestrator,
        PreflightError,
    )
    from gruponos_ext.services.orchestrator.outcomes import (
        DisposeOutcome,
        GuardOutcome,
        PreflightOutcome,
    )

__all__ = [
    "GUARD_CONTEXT_ENV",
    "PARENT_CONTEXT_ENV",
    "DisposeOutcome",
    "GruponosMeltanoOrchestrator",
    "GuardOutcome",
    "PreflightError",
    "PreflightOutcome",
    "resolve_context",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "GUARD_CONTEXT_ENV": ".context",
        "PARENT_CONTEXT_ENV": ".context",
        "resolve_context": ".context",
        "GruponosMeltanoOrchestrator": ".lifecycle",
        "PreflightError": ".lifecycle",
        "DisposeOutcome": ".outcomes",
        "GuardOutcome": ".outcomes",
        "PreflightOutcome": ".outcomes",
    },
)
