"""Health checks: the model, the parallel runner, renderings and built-in checks.

The model is imported eagerly (it is light); everything else on first
attribute access, so ``import gruponos_ext.health.model`` stays cheap for
commands that never run a check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gruponos_ext._lazy import lazy_exports
from gruponos_ext.health.model import (
    CheckOutcome,
    CheckResult,
    HealthCheck,
    HealthReport,
    ServiceCheck,
    Status,
)

if TYPE_CHECKING:
    from gruponos_ext.health.checks import (
        breakers_check,
        disk_space_check,
        meltano_db_check,
        settings_check,
        state_dir_check,
    )
    from gruponos_ext.health.report import render_json, render_text, to_ietf_json
    from gruponos_ext.health.runner import (
        DuplicateCheckError,
        HealthCheckRunner,
        UnknownCheckError,
    )

__all__ = [
    "CheckOutcome",
    "CheckResult",
    "DuplicateCheckError",
    "HealthCheck",
    "HealthCheckRunner",
    "HealthReport",
    "ServiceCheck",
    "Status",
    "UnknownCheckError",
    "breakers_check",
    "disk_space_check",
    "meltano_db_check",
    "render_json",
    "render_text",
    "settings_check",
    "state_dir_check",
    "to_ietf_json",
]

_LAZY = {
    "DuplicateCheckError": "runner",
    "HealthCheckRunner": "runner",
    "UnknownCheckError": "runner",
    "render_json": "report",
    "render_text": "report",
    "to_ietf_json": "report",
    "breakers_check": "checks",
    "disk_space_check": "checks",
    "meltano_db_check": "checks",
    "settings_check": "checks",
    "state_dir_check": "checks",
}


__getattr__ = lazy_exports(__name__, {name: f".{module}" for name, module in _LAZY.items()})
