"""The container as the registry of health checks (svcs-style ``ping``).

A registration may carry a :class:`ServiceCheck` (probe the resolved service)
or a plain :class:`HealthCheck`; :func:`checks_from_container` turns them into
runnable checks. Resolving the service happens inside the check, so a service
whose factory fails is reported as a failing check, not as a crash.
"""

from __future__ import annotations

import functools

from gruponos_ext.core.container import Container
from gruponos_ext.core.errors import ContainerError
from gruponos_ext.health.model import CheckOutcome, HealthCheck, ServiceCheck

__all__ = ["checks_from_container"]


def _service_probe(container: Container, service: str, check: ServiceCheck) -> CheckOutcome:
    try:
        instance = container.resolve(service)
    except ContainerError as exc:
        return CheckOutcome.failed(f"cannot create service {service!r}: {exc.message}")
    return check.probe(instance)


def checks_from_container(container: Container) -> list[HealthCheck]:
    """Every check carried by a registration, in registration order."""
    checks: list[HealthCheck] = []
    for registration in container.registrations():
        spec = registration.health_check
        if isinstance(spec, HealthCheck):
            checks.append(spec)
        elif isinstance(spec, ServiceCheck):
            checks.append(
                HealthCheck(
                    name=spec.name,
                    run=functools.partial(_service_probe, container, registration.name, spec),
                    tags=spec.tags,
                    critical=spec.critical,
                    timeout=spec.timeout,
                    description=spec.description or f"health of {registration.name!r}",
                )
            )
    return checks
