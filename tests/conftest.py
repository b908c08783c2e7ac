"""Shared fixtures: real local servers and sockets, Meltano projects.

The fixture modules live beside this file and are registered as plugins, so
every test module can use them by name.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

pytest_plugins = [
    "fixtures_alerts",
    "fixtures_cli",
    "fixtures_meltano",
    "fixtures_net",
    "fixtures_runs",
]
