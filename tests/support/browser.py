"""A real headless browser (Debian's ``chromium``) for the pages the extension writes.

- ``browser``: a :class:`Browser` that loads a local file and returns the DOM
  after the browser parsed and laid it out (``--dump-dom``), or a screenshot
  (``--screenshot``) at a given window size. Without chromium the tests skip
  with the reason, or fail when ``CI`` is set (`make test` installs it).
- :func:`parse_dom`: the dumped DOM as a flat list of :class:`Element`\\ s
  (tag, attributes, text, and the ``data-job`` of the job article around it).

Screenshots are kept as test artefacts under ``test-artifacts/`` in the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.support.meltano import REPO_ROOT

__all__ = ["ARTIFACTS", "Browser", "Element", "browser", "parse_dom"]

ARTIFACTS = REPO_ROOT / "test-artifacts"
# The flags this machine needs: no sandbox as root, and nothing that reaches
# for the network (which is closed here and would stall every start).
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


@dataclass
class Browser:
    """``chromium`` at ``executable``, each call with a fresh empty profile."""

    executable: str

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
            return subprocess.run(
                [self.executable, *_FLAGS, f"--user-data-dir={profile}", *args],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )

    def dump_dom(self, page: Path) -> str:
        """The DOM of ``page`` as the browser built it."""
        done = self._run("--dump-dom", page.resolve().as_uri())
        assert done.returncode == 0 and "<html" in done.stdout, done.stderr[-2000:]
        return done.stdout

    def screenshot(self, page: Path, name: str, *, width: int, height: int) -> Path:
        """A PNG of ``page`` at ``width`` x ``height``, kept as ``test-artifacts/<name>``."""
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / name
        target.unlink(missing_ok=True)
        done = self._run(
            f"--screenshot={target}", f"--window-size={width},{height}", page.resolve().as_uri()
        )
        assert done.returncode == 0 and target.is_file(), done.stderr[-2000:]
        return target


@pytest.fixture(scope="session")
def browser() -> Browser:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        reason = "no chromium: as root, `apt-get install chromium` (make test does)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return Browser(executable)


@dataclass
class Element:
    """One element of a parsed DOM."""

    tag: str
    attrs: dict[str, str]
    job: str | None
    text: list[str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    @property
    def all_text(self) -> str:
        return "".join(self.text)


class _Collector(HTMLParser):
    _VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "line"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        job = values.get("data-job") if tag == "article" else None
        if job is None and self._open:
            job = self._open[-1].job
        element = Element(tag, values, job)
        self.elements.append(element)
        if tag not in self._VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text.append(data)


def parse_dom(dom: str) -> list[Element]:
    """Every element of ``dom``, in document order."""
    collector = _Collector()
    collector.feed(dom)
    collector.close()
    return collector.elements
