"""Fixtures for tests that run the ``gruponos_extension`` console script as a real process.

Registered as a plugin by ``tests/conftest.py``; helpers import from
``tests.support.cli``. PYTHONPYCACHEPREFIX keeps bytecode for
the many short-lived processes (the CLI, ``meltano``) in pytest's cache
directory: this environment sets PYTHONDONTWRITEBYTECODE, and without a
cache every ``meltano`` call recompiles its imports (~3 s instead of ~1.5 s).
Nothing is written into the checkout or the venv.

- ``bytecode_cache_env``: environment entries that enable that cache.
- ``extension_cli``: an :class:`ExtensionCli` on a copy of the bundled
  project under ``tmp_path``, with a clean, controlled environment.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.meltano import copy_bundled_project, offline_meltano_env

__all__ = [
    "CLI_BIN",
    "ExtensionCli",
    "bytecode_cache_env",
    "extension_cli",
    "with_bytecode_cache",
]

CLI_BIN = Path(sys.executable).parent / "gruponos_extension"
"""The console script of the test environment (never one from PATH)."""

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
class ExtensionCli:
    """``gruponos_extension`` run as a process against the project at ``root``."""

    root: Path
    env: dict[str, str]

    @property
    def state_dir(self) -> Path:
        return self.root / ".meltano" / "gruponos-infra"

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
