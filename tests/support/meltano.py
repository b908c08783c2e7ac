"""Fixtures for tests that drive a real ``meltano`` in a copy of the bundled project.

Registered as a plugin by ``tests/conftest.py``; helpers import as
``from tests.support.meltano import MeltanoProject, REPO_ROOT``. Nothing here
installs into the checkout's own ``.meltano``: every project is a copy under
``tmp_path``, whose ``gruponos-infra`` utility installs from this checkout.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = [
    "MELTANO_BIN",
    "REPO_ROOT",
    "MeltanoProject",
    "copy_bundled_project",
    "meltano_env",
    "meltano_project",
    "offline_meltano_env",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The checkout: the bundled meltano.yml, data/ and the package the utility installs from."""

MELTANO_BIN = Path(sys.executable).parent / "meltano"
"""The meltano of the test environment (never one from PATH)."""

_CHECKOUT_PIP_URL = "pip_url: -e ${MELTANO_PROJECT_ROOT}"

# Variables that would leak the caller's Meltano context or settings into a test run.
_SCRUBBED_PREFIXES = ("MELTANO_", "GRUPONOS_", "TAP_", "TARGET_")


def offline_meltano_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: ``os.environ``) made quiet, offline and free of Meltano context.

    The test venv's ``bin`` goes first on ``PATH``, so a ``meltano`` the
    extension spawns (``guard``) is the same meltano the test runs.
    """
    env = {
        key: value
        for key, value in (os.environ if base is None else base).items()
        if not key.startswith(_SCRUBBED_PREFIXES)
    }
    env.update(
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_CLI_DISABLE_VERSION_CHECK="true",
        NO_COLOR="1",
        PATH=os.pathsep.join([str(MELTANO_BIN.parent), env.get("PATH", "")]),
    )
    return env


def copy_bundled_project(
    destination: Path, *, utility_from_checkout: bool = True, with_data: bool = True
) -> Path:
    """Copy the bundled ``meltano.yml`` (and ``data/``) into ``destination``.

    With ``utility_from_checkout`` the copy's ``gruponos-infra`` installs from
    this checkout (``-e <repo>``) instead of from the copy itself.
    """
    destination.mkdir(parents=True, exist_ok=True)
    text = (REPO_ROOT / "meltano.yml").read_text(encoding="utf-8")
    if utility_from_checkout:
        if text.count(_CHECKOUT_PIP_URL) != 1:
            msg = f"expected exactly one '{_CHECKOUT_PIP_URL}' line in the bundled meltano.yml"
            raise AssertionError(msg)
        text = text.replace(_CHECKOUT_PIP_URL, f"pip_url: -e {shlex.quote(str(REPO_ROOT))}")
    (destination / "meltano.yml").write_text(text, encoding="utf-8")
    if with_data:
        shutil.copytree(REPO_ROOT / "data", destination / "data")
    return destination


@dataclass
class MeltanoProject:
    """A temporary Meltano project and the environment its commands run with."""

    root: Path
    env: dict[str, str]

    @property
    def meltano_yml(self) -> Path:
        return self.root / "meltano.yml"

    @property
    def sample_output(self) -> Path:
        """Where the sample job's target-jsonl writes (it appends across runs)."""
        return self.root / "output" / "allocations.jsonl"

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        timeout: float = 180.0,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``meltano *args`` in the project; ``env`` entries are added to the project's env."""
        return subprocess.run(
            [str(MELTANO_BIN), *args],
            cwd=cwd or self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def install(self, *plugins: str, timeout: float = 300.0) -> None:
        """``meltano install PLUGIN...``; fails the test with meltano's output if it fails."""
        result = self.run("install", *plugins, timeout=timeout)
        if result.returncode != 0:
            pytest.fail(
                f"meltano install {' '.join(plugins)} exited {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )

    def edit(self, old: str, new: str, *, count: int = 1) -> None:
        """Replace ``old`` (which must occur exactly ``count`` times) in meltano.yml."""
        text = self.meltano_yml.read_text(encoding="utf-8")
        found = text.count(old)
        if found != count:
            pytest.fail(f"{old!r} occurs {found} times in meltano.yml, expected {count}")
        self.meltano_yml.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def meltano_env() -> dict[str, str]:
    """An environment for running meltano quietly, offline and without the caller's context."""
    return offline_meltano_env()


@pytest.fixture
def meltano_project(
    tmp_path: Path, meltano_env: dict[str, str]
) -> Iterator[Callable[..., MeltanoProject]]:
    """Factory: ``meltano_project(name="project", utility_from_checkout=True)``.

    Each call copies the bundled project into a new directory under
    ``tmp_path``; nothing is installed until a test asks for it.
    """

    def make(name: str = "project", *, utility_from_checkout: bool = True) -> MeltanoProject:
        root = copy_bundled_project(tmp_path / name, utility_from_checkout=utility_from_checkout)
        return MeltanoProject(root=root, env=dict(meltano_env))

    yield make
