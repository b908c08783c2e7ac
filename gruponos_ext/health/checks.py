"""Built-in checks that need no service client: disk, Meltano DB, state dir, breakers, settings.

Each function returns a :class:`HealthCheck`; building one does no I/O. A
thing that is not configured (``None``) gives a check that reports ``skip``
with the reason. Tags: ``local`` for checks that touch only this machine,
``external`` for ones that open a network connection.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.files import create_exclusive
from gruponos_ext.core.result import Result
from gruponos_ext.health.model import CheckOutcome, HealthCheck

if TYPE_CHECKING:
    from gruponos_ext.services.breaker import BreakerRegistry

__all__ = [
    "breakers_check",
    "disk_space_check",
    "meltano_db_check",
    "settings_check",
    "state_dir_check",
]

_MIB = 1024 * 1024

StrPath = str | os.PathLike[str]


def _nearest_existing(path: Path) -> Path:
    """``path`` or its closest existing ancestor: where its data would land."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor or ".")


def _mib(n_bytes: float) -> str:
    if n_bytes >= 1024 * _MIB:
        return f"{n_bytes / (1024 * _MIB):.1f} GiB"
    return f"{n_bytes / _MIB:.1f} MiB"


# -- disk ----------------------------------------------------------------------


def disk_space_check(
    path: StrPath | None,
    *,
    warn_mb: float = 1024,
    fail_mb: float = 200,
    name: str = "disk:free_space",
    critical: bool = True,
    tags: frozenset[str] = frozenset({"local", "system"}),
) -> HealthCheck:
    """Free space on the file system holding ``path`` (MiB): warn/fail below the thresholds.

    A ``path`` that does not exist yet is measured at its nearest existing
    ancestor. ``warn_mb`` must be >= ``fail_mb``.
    """
    if warn_mb < fail_mb:
        raise ValueError(f"warn_mb ({warn_mb}) must be >= fail_mb ({fail_mb})")
    target = Path(path) if path is not None else None

    def run() -> CheckOutcome:
        if target is None:
            return CheckOutcome.skipped("no path configured", component_type="system")
        measured = _nearest_existing(target)
        # What shutil.disk_usage reads (free = blocks available to this user),
        # without importing shutil (~1.8 ms, bench/bench_startup.py).
        usage = os.statvfs(measured)
        free, total = usage.f_bavail * usage.f_frsize, usage.f_blocks * usage.f_frsize
        free_mib = free / _MIB
        text = f"{_mib(free)} free of {_mib(total)} at {target}"
        kwargs = {
            "observed_value": round(free_mib, 1),
            "observed_unit": "MiB",
            "component_type": "system",
            "details": {"path": str(measured), "total_mib": round(total / _MIB, 1)},
        }
        if free_mib < fail_mb:
            return CheckOutcome.failed(f"{text} (below {fail_mb:g} MiB)", **kwargs)
        if free_mib < warn_mb:
            return CheckOutcome.warned(f"{text} (below {warn_mb:g} MiB)", **kwargs)
        return CheckOutcome.passed(text, **kwargs)

    return HealthCheck(
        name=name,
        run=run,
        tags=tags,
        critical=critical,
        description="free disk space where the pipeline writes",
    )


# -- Meltano system database -------------------------------------------------------

_DEFAULT_PORTS = {
    "postgresql": 5432,
    "postgres": 5432,
    "mysql": 3306,
    "mariadb": 3306,
    "mssql": 1433,
    "oracle": 1521,
}


@dataclass(frozen=True, slots=True)
class _DbTarget:
    """What a database URI points at, without its credentials."""

    kind: str  # "sqlite" | "memory" | "tcp" | "invalid"
    path: Path | None = None
    scheme: str = ""
    host: str = ""
    port: int = 0
    problem: str = ""


def _parse_database_uri(uri: str, base_dir: Path | None) -> _DbTarget:
    """Split a SQLAlchemy-style URL into a credential-free target (no I/O)."""
    from urllib.parse import urlsplit

    scheme, sep, rest = uri.partition("://")
    if not sep or not scheme:
        return _DbTarget(
            "invalid", problem="is not a database URL (expected sqlite:///PATH or SCHEME://HOST)"
        )
    base_scheme = scheme.split("+", 1)[0].lower()
    if base_scheme == "sqlite":
        # SQLAlchemy: sqlite:///relative, sqlite:////absolute, sqlite:// in memory.
        raw = rest.split("?", 1)[0]
        raw = raw[1:] if raw.startswith("/") else raw
        if raw in ("", ":memory:"):
            return _DbTarget("memory")
        path = Path(raw)
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
        return _DbTarget("sqlite", path=path)
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return _DbTarget("invalid", scheme=base_scheme, problem="has an invalid port")
    if not parts.hostname:
        return _DbTarget("invalid", scheme=base_scheme, problem="names no host")
    port = port or _DEFAULT_PORTS.get(base_scheme, 0)
    if not port:
        return _DbTarget(
            "invalid", scheme=base_scheme, problem=f"names no port and {base_scheme} has no default"
        )
    return _DbTarget("tcp", scheme=base_scheme, host=parts.hostname, port=port)


def meltano_db_check(
    database_uri: str | None,
    *,
    base_dir: StrPath | None = None,
    timeout: float = 3.0,
    name: str = "meltano_db:integrity",
    critical: bool = True,
) -> HealthCheck:
    """The Meltano system database named by ``MELTANO_DATABASE_URI``.

    SQLite (``sqlite:///path``, relative paths from ``base_dir``, normally the
    project root): opened read-only (``mode=ro``, so the check can never
    create or change it) and ``PRAGMA quick_check``-ed; observed value is the
    file size in MiB. Any other URL (``postgresql://user:pass@host:port/db``):
    a TCP connection to host:port within ``timeout``, observed latency in ms
    (keep ``timeout`` below the runner's, so the clearer message wins).
    The URI's credentials are dropped when the check is built and appear in no
    message.
    """
    if not database_uri:
        target = None
        tags = frozenset({"local", "meltano"})
    else:
        target = _parse_database_uri(database_uri, Path(base_dir) if base_dir else None)
        tags = frozenset({"external" if target.kind == "tcp" else "local", "meltano"})

    def run() -> CheckOutcome:
        if target is None:
            return CheckOutcome.skipped(
                "MELTANO_DATABASE_URI is not set", component_type="datastore"
            )
        if target.kind == "invalid":
            return CheckOutcome.failed(
                f"MELTANO_DATABASE_URI {target.problem}", component_type="datastore"
            )
        if target.kind == "memory":
            return CheckOutcome.skipped(
                "the Meltano database is in memory: nothing to check", component_type="datastore"
            )
        if target.kind == "sqlite":
            assert target.path is not None
            return _check_sqlite(target.path, timeout)
        return _check_tcp(target, timeout)

    return HealthCheck(
        name=name,
        run=run,
        tags=tags,
        critical=critical,
        description="Meltano system database readable and intact",
    )


def _check_sqlite(path: Path, timeout: float) -> CheckOutcome:
    import sqlite3
    from urllib.parse import quote

    kind = {"component_type": "datastore"}
    if not path.exists():
        return CheckOutcome.failed(
            f"Meltano system database not found at {path} (has `meltano install` run here?)",
            **kind,
        )
    if not path.is_file():
        return CheckOutcome.failed(f"Meltano system database {path} is not a file", **kind)
    size_mib = round(path.stat().st_size / _MIB, 3)
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=timeout)
    except sqlite3.Error as exc:
        return CheckOutcome.failed(f"cannot open Meltano system database {path}: {exc}", **kind)
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
    except sqlite3.OperationalError as exc:
        return CheckOutcome.failed(f"cannot read Meltano system database {path}: {exc}", **kind)
    except sqlite3.DatabaseError as exc:
        return CheckOutcome.failed(f"Meltano system database {path} is corrupt: {exc}", **kind)
    finally:
        conn.close()
    problems = [str(row[0]) for row in rows if row and row[0] != "ok"]
    measured = {"observed_value": size_mib, "observed_unit": "MiB", **kind}
    if problems:
        shown = "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else "")
        return CheckOutcome.failed(
            f"Meltano system database {path} failed quick_check ({len(problems)} problem(s)): "
            f"{shown}",
            **measured,
        )
    if not tables or not tables[0]:
        return CheckOutcome.warned(
            f"Meltano system database {path} is empty (no tables; has `meltano install` run?)",
            **measured,
        )
    return CheckOutcome.passed(
        f"Meltano system database {path}: quick_check ok, {tables[0]} tables", **measured
    )


def _check_tcp(target: _DbTarget, timeout: float) -> CheckOutcome:
    import socket

    where = f"{target.scheme} server at {target.host}:{target.port}"
    kind = {"component_type": "datastore"}
    started = time.perf_counter()
    try:
        with socket.create_connection((target.host, target.port), timeout=timeout):
            latency_ms = round((time.perf_counter() - started) * 1000, 1)
    except TimeoutError:
        return CheckOutcome.failed(f"cannot reach {where}: timed out after {timeout:g} s", **kind)
    except socket.gaierror as exc:
        return CheckOutcome.failed(f"cannot resolve {target.host}: {exc.strerror or exc}", **kind)
    except OSError as exc:
        return CheckOutcome.failed(f"cannot reach {where}: {exc.strerror or exc}", **kind)
    return CheckOutcome.passed(
        f"{where} reachable", observed_value=latency_ms, observed_unit="ms", **kind
    )


# -- state directory ------------------------------------------------------------------


def state_dir_check(
    path: StrPath | None,
    *,
    name: str = "state_dir:writable",
    critical: bool = True,
    tags: frozenset[str] = frozenset({"local"}),
) -> HealthCheck:
    """The extension's state directory: created if missing, then a temp file written and removed."""
    target = Path(path) if path is not None else None

    def run() -> CheckOutcome:
        if target is None:
            return CheckOutcome.skipped("no state directory configured", component_type="system")
        kind = {"component_type": "system"}
        created = not target.exists()
        try:
            target.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            return CheckOutcome.failed(
                f"state directory {target} exists but is not a directory", **kind
            )
        except OSError as exc:
            return CheckOutcome.failed(
                f"cannot create state directory {target}: {exc.strerror or exc}", **kind
            )
        if not target.is_dir():
            return CheckOutcome.failed(
                f"state directory {target} exists but is not a directory", **kind
            )
        try:
            fd, probe = create_exclusive(target, ".health-", ".tmp")
            try:
                os.write(fd, b"gruponos-infra health probe\n")
                os.fsync(fd)
            finally:
                os.close(fd)
                os.unlink(probe)
        except OSError as exc:
            return CheckOutcome.failed(
                f"state directory {target} is not writable: {exc.strerror or exc}", **kind
            )
        verb = "created and writable" if created else "writable"
        return CheckOutcome.passed(f"state directory {target} is {verb}", **kind)

    return HealthCheck(
        name=name,
        run=run,
        tags=tags,
        critical=critical,
        description="the extension's state directory is writable",
    )


# -- circuit breakers -------------------------------------------------------------------


def breakers_check(
    registry: BreakerRegistry | None,
    *,
    name: str = "circuit_breakers:state",
    critical: bool = False,
    tags: frozenset[str] = frozenset({"local", "breakers"}),
) -> HealthCheck:
    """``warn`` naming every open breaker of ``registry``; ``pass`` otherwise.

    Half-open breakers (probing recovery) are named in a passing message.
    Observed value: the number of open breakers.
    """

    def run() -> CheckOutcome:
        if registry is None:
            return CheckOutcome.skipped("no circuit breaker registry configured")
        snapshots = registry.snapshots()
        opened = [s for s in snapshots if s.state.value == "open"]
        half_open = [s for s in snapshots if s.state.value == "half_open"]
        details = {
            "open": [s.name for s in opened],
            "half_open": [s.name for s in half_open],
            "total": len(snapshots),
        }
        measured = {"observed_value": len(opened), "observed_unit": "open", "details": details}
        if opened:
            listed = ", ".join(
                f"{s.name} (retry in {s.retry_after_s or 0.0:.1f} s"
                + (f"; last failure: {s.last_failure})" if s.last_failure else ")")
                for s in opened
            )
            return CheckOutcome.warned(
                f"{len(opened)} of {len(snapshots)} circuit breakers open: {listed}", **measured
            )
        text = (
            f"all {len(snapshots)} circuit breakers closed"
            if snapshots
            else "no circuit breakers registered"
        )
        if half_open:
            text = (
                f"{len(half_open)} of {len(snapshots)} circuit breakers half-open "
                f"(probing recovery): {', '.join(s.name for s in half_open)}"
            )
        return CheckOutcome.passed(text, **measured)

    return HealthCheck(
        name=name,
        run=run,
        tags=tags,
        critical=critical,
        description="no circuit breaker is open",
    )


# -- settings --------------------------------------------------------------------------


def settings_check(
    load: Callable[[], object],
    *,
    name: str = "settings:valid",
    critical: bool = True,
    tags: frozenset[str] = frozenset({"local", "config"}),
) -> HealthCheck:
    """``load()`` succeeds: it returns the settings (or an ok :class:`Result`).

    A :class:`GruponosError` raised by ``load`` (e.g. the settings error that
    lists every invalid variable) or a failed ``Result`` gives ``fail`` with
    its message; other exceptions are left to the runner, which reports them
    as sanitised failures.
    """

    def run() -> CheckOutcome:
        try:
            loaded = load()
        except GruponosError as exc:
            return CheckOutcome.failed(
                exc.message or type(exc).__name__, details={"code": exc.code}
            )
        if isinstance(loaded, Result) and loaded.is_failure:
            return CheckOutcome.failed(
                loaded.error or "settings are invalid",
                details={"code": loaded.error_code} if loaded.error_code else {},
            )
        return CheckOutcome.passed("settings are valid")

    return HealthCheck(
        name=name,
        run=run,
        tags=tags,
        critical=critical,
        description="the extension's settings are valid",
    )
