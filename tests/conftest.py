"""Shared fixtures: real local servers and sockets, Meltano projects, processes.

They live in :mod:`tests.support`, one module per kind of real part; test
modules import helpers from there and use the fixtures by name.
"""

from __future__ import annotations

# A module is listed after the modules it imports, so pytest rewrites each one's asserts.
pytest_plugins = [
    "tests.support.meltano",
    "tests.support.net",
    "tests.support.alerts",
    "tests.support.cli",
    "tests.support.runs",
    "tests.support.doctests",
    "tests.support.postgres",
    "tests.support.state",
    "tests.support.browser",
]
