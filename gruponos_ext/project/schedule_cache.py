"""The project's schedules, kept between runs while the files they come from are unchanged.

``schedules:freshness`` runs in every ``health``; reading the schedules means
importing a YAML parser and parsing every project file, ~10 ms of a run whose
whole budget is ~170 ms (bench/bench_startup.py). The result is kept in a
small JSON file, as dbt keeps its parsed project for partial parsing, and
used only when nothing it came from has changed:

* the same code (Python, the project reader's source files, the YAML
  parser's) and the same project root;
* every file the read used has the same text (SHA-256 of its content: an
  edit that keeps the size and the modification time is still seen);
* every ``include_paths`` pattern matches the same files, resolved (a file
  added, removed or re-pointed by a symbolic link is seen).

These are everything the read depends on, recorded by the loader itself as
it read (:class:`~gruponos_ext.project.loading.SourceLog`), so a kept result
is the one a new read would give. A read that fails is never kept: the
error is raised again each time, as without a cache. Only what the check
needs is kept (name, interval, job or extractor/loader, place in the file);
never a schedule's ``env``, which may hold secrets. A cache that cannot be
read or written costs a read, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gruponos_ext.core.files import replace_atomically

if TYPE_CHECKING:
    from gruponos_ext.project.loading import SourceLog
    from gruponos_ext.project.schedule import Schedule

__all__ = ["CACHE_FORMAT", "SCHEDULE_CACHE_FILE", "cached_schedules"]

CACHE_FORMAT = 1
SCHEDULE_CACHE_FILE = "schedule-cache.json"
"""The cache's file name in the state directory."""

_KEPT = ("name", "interval", "job", "extractor", "loader", "transform")


def cached_schedules(project_root: Path | str, cache_file: Path | None) -> tuple[Schedule, ...]:
    """:func:`~gruponos_ext.project.schedules.read_schedules`, kept in ``cache_file``.

    The schedules carry no ``definition`` nor ``env`` when they come from the
    cache (they are not kept). Without ``cache_file``, a plain read.
    """
    root = Path(project_root).resolve()
    code = ""
    if cache_file is not None:
        code = _code_stamp()
        kept = _load(cache_file, root, code)
        if kept is not None:
            return kept
    # Only a read needs the reader (and YAML): a kept result is served without them.
    from gruponos_ext.project.loading import SourceLog
    from gruponos_ext.project.schedules import read_schedules

    if cache_file is None:
        return read_schedules(root)  # nothing to keep: the files are not hashed
    sources = SourceLog()
    schedules = read_schedules(root, sources=sources)
    _store(cache_file, root, code, sources, schedules)
    return schedules


def _code_stamp() -> str:
    """What the reading code is: Python's version, the reader's and the parser's files.

    Files by size and modification time: installing another version of the
    package (or editing a checkout) rewrites them.
    """
    parts = [sys.version]
    here = Path(__file__).parent
    for directory in (here, here / "cron"):
        with contextlib.suppress(OSError):
            for entry in sorted(os.scandir(directory), key=lambda e: e.name):
                if entry.name.endswith(".py"):
                    stat = entry.stat()
                    parts.append(f"{entry.name}:{stat.st_size}:{stat.st_mtime_ns}")
    parts.append(_yaml_stamp())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _yaml_stamp() -> str:
    """The YAML parser's package file, found as the import system would, not imported."""
    for entry in sys.path:
        candidate = Path(entry or ".", "yaml", "__init__.py")
        with contextlib.suppress(OSError):
            stat = candidate.stat()
            return f"yaml:{candidate}:{stat.st_size}:{stat.st_mtime_ns}"
    return "yaml: missing"


def _load(cache_file: Path, root: Path, code: str) -> tuple[Schedule, ...] | None:
    """The kept schedules, or None when there are none or any source changed."""
    try:
        kept = json.loads(cache_file.read_text(encoding="utf-8"))
        if (
            kept["format"] != CACHE_FORMAT
            or kept["root"] != str(root)
            or kept["code"] != code
            or not _unchanged(root, kept["files"], kept["globs"])
        ):
            return None
        return tuple(_schedule(entry) for entry in kept["schedules"])
    except Exception:  # missing, torn, another shape, a pattern pathlib refuses: read again
        return None


def _unchanged(root: Path, files: list[Any], globs: list[Any]) -> bool:
    """Whether the patterns match the same files and the files hold the same bytes."""
    for pattern, matches in globs:
        found = [str(match.resolve()) for match in sorted(root.glob(pattern))]
        if found != matches:
            return False
    for rel, size, digest in files:
        path = root / rel
        if path.stat().st_size != size:  # the cheap test first; a changed size is a change
            return False
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            return False
    return True


def _schedule(entry: dict[str, Any]) -> Schedule:
    from gruponos_ext.project.places import Where
    from gruponos_ext.project.schedule import Schedule

    file, key_path, line = entry["where"]
    return Schedule(
        where=Where(file, key_path, line), definition={}, **{k: entry[k] for k in _KEPT}
    )


def _store(
    cache_file: Path,
    root: Path,
    code: str,
    sources: SourceLog,
    schedules: tuple[Schedule, ...],
) -> None:
    """Keep ``schedules`` with what they came from; best effort (atomic, or not at all)."""
    document = {
        "format": CACHE_FORMAT,
        "root": str(root),
        "code": code,
        "files": sources.files,
        "globs": sources.globs,
        "schedules": [
            {
                **{k: getattr(s, k) for k in _KEPT},
                "where": [s.where.file, s.where.key_path, s.where.line],
            }
            for s in schedules
        ],
    }
    with contextlib.suppress(OSError):  # no cache this time: the next run reads again
        replace_atomically(cache_file, json.dumps(document))
