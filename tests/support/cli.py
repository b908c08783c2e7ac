"""Fixtures for tests of the ``gruponos_extension`` CLI, in-process and as a real process.

Registered as a plugin by ``tests/conftest.py``; helpers import from
``tests.support.cli``.

- ``in_process_cli``: an :class:`InProcessCli` that runs the click command
  group with click's ``CliRunner`` (parsing, exit codes and rendering, in
  milliseconds), on a copy of the bundled project, with the environment
  Meltano would give the plugin and nothing of the caller's.
- ``extension_cli``: an :class:`ExtensionCli` that runs the console script
  as a process, for what only a real process shows (import cost, the output
  of a fresh process, real file descriptors).

PYTHONPYCACHEPREFIX keeps bytecode for
the many short-lived processes (the CLI, ``meltano``) in pytest's cache
directory: this environment sets PYTHONDONTWRITEBYTECODE, and without a
cache every ``meltano`` call recompiles its imports (~3 s instead of ~1.5 s).
Nothing is written into the checkout or the venv.

- ``bytecode_cache_env``: environment entries that enable that cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.meltano import copy_bundled_project, offline_meltano_env

__all__ = [
    "CLI_BIN",
    "NOT_SCHEDULED",
    "TRACEBACK",
    "CliResult",
    "ExtensionCli",
    "InProcessCli",
    "bytecode_cache_env",
    "extension_cli",
    "health_json",
    "in_process_cli",
    "only_line",
    "oracle_env",
    "run_in_process",
    "with_bytecode_cache",
]

# The bundled project's schedules have never run in a fresh copy (schedules:freshness
# warns about that, see tests/test_e2e_freshness.py); tests about other things leave
# them out so that local defaults pass.
NOT_SCHEDULED = {"GRUPONOS_INFRA_SCHEDULE_EXCLUDE": "wms-incremental-hourly,wms-full-daily"}

CLI_BIN = Path(sys.executable).parent / "gruponos_extension"
"""The console script of the test environment (never one from PATH)."""

TRACEBACK = "Traceback (most recent call last)"


def only_line(text: str) -> str:
    """The one non-blank line of ``text`` (AssertionError listing them otherwise)."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def health_json(stdout: str) -> dict[str, Any]:
    """The health report ``health --format json`` printed."""
    document = json.loads(stdout)
    assert isinstance(document, dict)
    return document


def oracle_env(password: str, port: int, **extra: str) -> dict[str, str]:
    """Settings of an Oracle at 127.0.0.1:``port`` whose password is ``password``."""
    return {
        "GRUPONOS_INFRA_ORACLE_HOST": "127.0.0.1",
        "GRUPONOS_INFRA_ORACLE_PORT": str(port),
        "GRUPONOS_INFRA_ORACLE_SERVICE_NAME": "GRUPONOS_TEST",
        "GRUPONOS_INFRA_ORACLE_USER": "wms_reader",
        "GRUPONOS_INFRA_ORACLE_PASSWORD": password,
        **extra,
    }


# Variables of the caller that would change what the CLI prints.
_CALLER_LOGGING = ("LOG_LEVEL", "LOG_LEVELS", "LOG_TIMESTAMPS", "VIRTUAL_ENV")


def with_bytecode_cache(env: Mapping[str, str], cache: Mapping[str, str]) -> dict[str, str]:
    """``env`` with ``cache`` (from :func:`bytecode_cache_env`) applied."""
    result = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result.update(cache)
    return result


@pytest.fixture(scope="session")
def bytecode_cache_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """``PYTHONPYCACHEPREFIX`` under ``.pytest_cache`` (or a temporary directory)."""
    cache = getattr(request.config, "cache", None)
    directory = cache.mkdir("bytecode") if cache is not None else tmp_path_factory.mktemp("pyc")
    return {"PYTHONPYCACHEPREFIX": str(directory)}


@dataclass
class _CliOnProject:
    """The CLI pointed at the project at ``root``, with ``env`` added to its environment."""

    root: Path
    env: dict[str, str]

    @property
    def state_dir(self) -> Path:
        return self.root / ".meltano" / "gruponos-infra"


@dataclass
class ExtensionCli(_CliOnProject):
    """``gruponos_extension`` run as a process against the project at ``root``."""

    def environment(
        self, env: Mapping[str, str] | None = None, unset: Iterable[str] = ()
    ) -> dict[str, str]:
        merged = {**self.env, **(env or {})}
        for name in unset:
            merged.pop(name, None)
        return merged

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        unset: Iterable[str] = (),
        timeout: float = 60.0,
        stdout: int | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``gruponos_extension *args``, by default from the project's parent directory.

        Never from the project root: the CLI must find the project through
        MELTANO_PROJECT_ROOT, as it does under Meltano, whatever the cwd.
        """
        return subprocess.run(
            [str(CLI_BIN), *args],
            cwd=cwd or self.root.parent,
            env=self.environment(env, unset),
            stdout=subprocess.PIPE if stdout is None else stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=timeout,
            check=False,
        )

    def python(
        self, code: str, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """``python -c code *args`` with the CLI's environment."""
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=self.root.parent,
            env=self.environment(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture
def extension_cli(tmp_path: Path, bytecode_cache_env: dict[str, str]) -> ExtensionCli:
    """The CLI on a fresh copy of the bundled project; no GRUPONOS_*/MELTANO_* leaks in."""
    root = copy_bundled_project(tmp_path / "project", with_data=False)
    env = {k: v for k, v in offline_meltano_env().items() if k not in _CALLER_LOGGING}
    env = with_bytecode_cache(env, bytecode_cache_env)
    env.update(
        MELTANO_PROJECT_ROOT=str(root),
        MELTANO_SYS_DIR_ROOT=str(root / ".meltano"),
    )
    assert not any(k.startswith("GRUPONOS_") for k in env)
    return ExtensionCli(root=root, env=env)


# --------------------------------------------------------------------------- in-process


@dataclass(frozen=True)
class CliResult:
    """What an in-process run printed and its exit status (named as a process's)."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


@contextmanager
def _restored_logging() -> Iterator[None]:
    """Logging state as before: a command configures it for its (pretend) process."""
    from gruponos_ext.core import logging as lazy

    threshold, setup = lazy._threshold, lazy._setup
    structlog = sys.modules.get("structlog")
    config = dict(structlog.get_config()) if structlog is not None else None
    configured = structlog.is_configured() if structlog is not None else False
    try:
        yield
    finally:
        lazy._threshold, lazy._setup = threshold, setup
        structlog = sys.modules.get("structlog")
        if structlog is not None:
            if configured and config is not None:
                structlog.configure(**config)
            else:
                structlog.reset_defaults()


@contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@dataclass
class InProcessCli(_CliOnProject):
    """The ``gruponos_extension`` command group run in this process on the project at ``root``."""

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        unset: Iterable[str] = (),
        cwd: Path | None = None,
    ) -> CliResult:
        """``gruponos_extension *args``, by default from the project's parent directory.

        The process environment is the caller's without any GRUPONOS_*,
        MELTANO_* or logging variable, plus ``self.env`` and ``env``.
        """
        overlay: dict[str, str | None] = {**self.env, **(env or {})}
        for name in unset:
            overlay[name] = None
        return run_in_process(args, overlay, cwd=cwd or self.root.parent)


def run_in_process(
    args: Iterable[str], env: Mapping[str, str | None], *, cwd: Path | None = None
) -> CliResult:
    """``gruponos_extension *args`` in this process, with logging as if it were its own.

    The environment is the caller's without any GRUPONOS_*, MELTANO_* or
    logging variable, then ``env`` (a ``None`` value unsets a variable).
    """
    from click.testing import CliRunner

    from gruponos_ext.extension.cli import cli

    argv = list(args)
    overlay: dict[str, str | None] = {
        name: None
        for name in os.environ
        if name.startswith(("GRUPONOS_", "MELTANO_")) or name in _CALLER_LOGGING
    }
    overlay.update(env)
    with _working_directory(cwd or Path.cwd()), _restored_logging():
        result = CliRunner().invoke(cli, argv, env=overlay, prog_name="gruponos_extension")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a bug in the CLI, not an exit status
    return CliResult(tuple(argv), result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def in_process_cli(tmp_path: Path) -> InProcessCli:
    """The CLI, in-process, on a fresh copy of the bundled project (see :class:`InProcessCli`)."""
    root = copy_bundled_project(tmp_path / "project", with_data=False)
    return InProcessCli(
        root=root,
        env={
            "MELTANO_PROJECT_ROOT": str(root),
            "MELTANO_SYS_DIR_ROOT": str(root / ".meltano"),
            "NO_COLOR": "1",
        },
    )
