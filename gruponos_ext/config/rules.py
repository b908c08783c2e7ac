"""Rules between settings: what one setting requires or forbids of another.

:func:`broken_rules` reads the validated values and returns ``(setting,
reason)`` pairs. A rule whose inputs failed on their own (``failed``) is
skipped, so a bad pool size is reported once, as a bad value, and not again
as "must not exceed".
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from gruponos_ext.config.fields import env_var_for as var

__all__ = ["broken_rules"]


def broken_rules(values: Mapping[str, Any], failed: Collection[str]) -> list[tuple[str, str]]:
    """Every rule ``values`` break, as ``(setting to fix, reason)``."""
    broken: list[tuple[str, str]] = []

    def ok(*names: str) -> bool:
        return not any(name in failed for name in names)

    def add(name: str, reason: str) -> None:
        broken.append((name, reason))

    if ok("oracle_pool_min", "oracle_pool_max"):
        low, high = values["oracle_pool_min"], values["oracle_pool_max"]
        if low > high:
            add("oracle_pool_min", f"must not exceed {var('oracle_pool_max')} ({low} > {high})")

    if values["oracle_host"]:
        host_var = var("oracle_host")
        service, sid = values["oracle_service_name"], values["oracle_sid"]
        if service and sid:
            add(
                "oracle_sid",
                f"set either {var('oracle_service_name')} or {var('oracle_sid')}, not both",
            )
        elif not service and not sid:
            add(
                "oracle_service_name",
                f"is required when {host_var} is set (or set {var('oracle_sid')} instead)",
            )
        for name in ("oracle_user", "oracle_password"):
            if values[name] is None and ok(name):
                add(name, f"is required when {host_var} is set")

    protocol = values["oracle_protocol"]
    if (
        values["oracle_wallet_location"] is not None
        and ok("oracle_protocol")
        and protocol != "tcps"
    ):
        add(
            "oracle_wallet_location",
            f"is only used with {var('oracle_protocol')}=tcps (the protocol is {protocol!r})",
        )

    for user, password in (
        ("wms_user", "wms_password"),
        ("alert_smtp_user", "alert_smtp_password"),
    ):
        if values[user] and values[password] is None and ok(password):
            add(password, f"is required when {var(user)} is set")
        if values[password] is not None and not values[user] and ok(user):
            add(user, f"is required when {var(password)} is set")

    if values["alert_smtp_host"]:
        host_var = var("alert_smtp_host")
        if not values["alert_email_from"] and ok("alert_email_from"):
            add("alert_email_from", f"is required when {host_var} is set")
        if not values["alert_email_to"] and ok("alert_email_to"):
            add("alert_email_to", f"needs at least one address when {host_var} is set")

    if ok("health_disk_warn_mb", "health_disk_fail_mb"):
        fail_mb, warn_mb = values["health_disk_fail_mb"], values["health_disk_warn_mb"]
        if fail_mb > warn_mb:
            add(
                "health_disk_fail_mb",
                f"must not exceed {var('health_disk_warn_mb')} ({fail_mb} > {warn_mb})",
            )
    return broken
