"""Docstring examples show results, not log lines.

structlog's default configuration prints every event to stdout, which a
doctest would compare with the example's expected output. For doctest items
only, events are captured (and dropped) instead; other tests keep
``structlog.testing.capture_logs`` for themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _pytest.doctest import DoctestItem
from structlog.testing import capture_logs


@pytest.fixture(autouse=True)
def _quiet_logs_in_doctests(request: pytest.FixtureRequest) -> Iterator[None]:
    if not isinstance(request.node, DoctestItem):
        yield
        return
    with capture_logs():
        yield
