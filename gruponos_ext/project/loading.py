"""Loading the project files: ``meltano.yml`` and the files its ``include_paths`` match.

Meltano 4.4.1 globs each ``include_paths`` pattern from the project root,
skips ``meltano.yml`` itself, refuses a match that is not a file or lies
outside the project, silently ignores a pattern that matches nothing, and
fails on an included file that is empty or not a mapping. This module does
the same, reporting each case as a finding instead of a traceback.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gruponos_ext.project.findings import Findings, Where
from gruponos_ext.project.yamlio import (
    MAX_FILE_BYTES,
    LineMap,
    ReadFailure,
    YamlError,
    parse_yaml,
    read_text_limited,
)

__all__ = ["MELTANO_FILE", "ProjectFile", "SourceLog", "load_files"]

MELTANO_FILE = "meltano.yml"


@dataclass(frozen=True)
class ProjectFile:
    """One parsed project file: its path relative to the root and its top mapping."""

    rel: str
    doc: LineMap

    @property
    def where(self) -> Where:
        """The file as a whole (its top-level mapping)."""
        return Where(self.rel, "", None, self.doc)


@dataclass
class SourceLog:
    """What a load read: each file's text digest, each ``include_paths`` glob's matches.

    Everything the loaded project depends on, as the loader saw it: read the
    same texts and glob the same patterns to the same files, and the load
    gives the same result (see :mod:`gruponos_ext.project.schedule_cache`).
    """

    files: list[tuple[str, int, str]] = field(default_factory=list)
    """(path relative to the root, size in bytes, SHA-256 in hex), in reading order.

    Of the text parsed, encoded back to UTF-8: the very bytes of the file,
    which decoded without error."""
    globs: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    """(pattern, the resolved paths it matched, sorted as globbed), in pattern order."""


def load_files(
    root: Path,
    findings: Findings,
    *,
    limit: int = MAX_FILE_BYTES,
    sources: SourceLog | None = None,
) -> tuple[ProjectFile, ...]:
    """Read ``meltano.yml`` and its included files, in Meltano's order.

    Returns nothing when ``meltano.yml`` itself cannot be used (the reason is
    in ``findings``); an included file that cannot be used is left out.
    ``sources``, when given, hears every file read and every pattern globbed
    (only then are the files hashed).
    """
    main_path = root / MELTANO_FILE
    if not main_path.is_file():
        findings.add(
            "PROJECT_NOT_FOUND",
            Where(MELTANO_FILE),
            f"no {MELTANO_FILE} in {root}: not a Meltano project "
            "(MELTANO_PROJECT_ROOT points elsewhere?)",
        )
        return ()
    main = _read(main_path, MELTANO_FILE, findings, limit, sources)
    if main is _UNUSABLE:
        return ()
    if main is None:
        findings.add(
            "PROJECT_EMPTY",
            Where(MELTANO_FILE),
            f"{MELTANO_FILE} is empty: Meltano refuses to load the project",
        )
        return ()
    if not isinstance(main, LineMap):
        findings.add(
            "FILE_NOT_MAPPING",
            Where(MELTANO_FILE),
            "the file must hold a mapping of keys at its top level",
        )
        return ()
    files = [ProjectFile(MELTANO_FILE, main)]
    files += _included(root, ProjectFile(MELTANO_FILE, main), findings, limit, sources)
    for extra in files[1:]:
        if "include_paths" in extra.doc:
            findings.add(
                "INCLUDE_NESTED",
                extra.where.at("include_paths"),
                "ignored: only meltano.yml may include files",
            )
    return tuple(files)


class _Unusable:
    """Marks a file that could not be read or parsed (already reported)."""


_UNUSABLE: Any = _Unusable()


def _read(path: Path, rel: str, findings: Findings, limit: int, log: SourceLog | None) -> Any:
    text = read_text_limited(path, limit)
    if isinstance(text, ReadFailure):
        findings.add(
            "FILE_TOO_LARGE" if text.too_large else "FILE_UNREADABLE", Where(rel), text.reason
        )
        return _UNUSABLE
    if log is not None:
        data = text.encode("utf-8")
        log.files.append((rel, len(data), hashlib.sha256(data).hexdigest()))
    try:
        return parse_yaml(text)
    except YamlError as exc:
        failure = exc.failure
        key_path = (
            f"line {failure.line}, column {failure.column}" if failure.line is not None else ""
        )
        findings.add(
            "YAML_DUPLICATE_KEY" if failure.duplicate_key else "YAML_INVALID",
            Where(rel, key_path, failure.line),
            f"invalid YAML: {failure.problem}",
        )
        return _UNUSABLE


def _included(
    root: Path, main: ProjectFile, findings: Findings, limit: int, log: SourceLog | None
) -> list[ProjectFile]:
    if "include_paths" not in main.doc:
        return []
    patterns = main.doc["include_paths"]
    where = main.where.at("include_paths")
    if isinstance(patterns, (str, dict)):
        # Meltano iterates it anyway: each character (or key) becomes a pattern.
        how = (
            "this string as one pattern per character, so it includes nothing you meant"
            if isinstance(patterns, str)
            else "only the keys of this mapping as patterns"
        )
        findings.add(
            "INCLUDE_NOT_LIST",
            where,
            f"must be a list of paths or glob patterns: Meltano reads {how}",
        )
        patterns, quiet = list(patterns), True
    elif not isinstance(patterns, list):
        findings.add(
            "INCLUDE_INVALID",
            where,
            "must be a list of paths or glob patterns relative to the project root: Meltano "
            "refuses to load the project",
        )
        return []
    else:
        quiet = False
    resolved_root = root.resolve()
    main_path = (root / MELTANO_FILE).resolve()
    included: list[ProjectFile] = []
    seen: set[Path] = set()
    for index, pattern in enumerate(patterns):
        here = where.at(index)
        if not isinstance(pattern, str) or not pattern:
            findings.add("INCLUDE_INVALID", here, "must be a path or glob pattern")
            continue
        try:
            matches = sorted(resolved_root.glob(pattern))
        except Exception:  # pathlib refuses the pattern (IndexError for ".", ...): so does Meltano
            findings.add(
                "INCLUDE_INVALID",
                here,
                f"'{pattern}' is not a usable glob pattern: give a path relative to the "
                "project root",
            )
            continue
        if log is not None:
            log.globs.append((pattern, tuple(str(m.resolve()) for m in matches)))
        matches = [m for m in matches if m != main_path]
        if not matches and quiet:
            continue  # said once above: include_paths is not a list
        if not matches:
            wildcard = any(char in pattern for char in "*?[")
            findings.add(
                "INCLUDE_NO_MATCH",
                here,
                f"pattern '{pattern}' matches no file"
                if wildcard
                else f"included file '{pattern}' does not exist",
            )
            continue
        for match in matches:
            rel = _relative(match, resolved_root)
            if not match.is_file():
                findings.add(
                    "INCLUDE_NOT_FILE", here, f"'{rel}' is not a file: Meltano refuses to load"
                )
                continue
            resolved = match.resolve()
            if not resolved.is_relative_to(resolved_root):
                findings.add(
                    "INCLUDE_OUTSIDE_PROJECT",
                    here,
                    f"'{rel}' lies outside the project: Meltano refuses to load it",
                )
                continue
            if resolved in seen:
                continue
            seen.add(resolved)
            doc = _read(match, rel, findings, limit, log)
            if doc is _UNUSABLE:
                continue
            if doc is None:
                findings.add(
                    "FILE_NOT_MAPPING",
                    Where(rel),
                    "the included file is empty: Meltano fails to load the project; give it a "
                    "mapping (e.g. 'jobs: []') or remove it",
                )
            elif not isinstance(doc, LineMap):
                findings.add(
                    "FILE_NOT_MAPPING", Where(rel), "an included file must hold a mapping of keys"
                )
            else:
                included.append(ProjectFile(rel, doc))
    return included


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
