"""Places in project files: a file, a key path into it and a line.

The YAML reader (:mod:`.yamlio`) gives mappings and lists that remember the
line of each key and item (:class:`LineMap`, :class:`LineList`);
:class:`Where` walks them to name a place, ``meltano.yml:12:
jobs[0].tasks[1]``. Kept apart from findings and the reader: the project
model and the schedule cache name places without loading either.

>>> doc = LineMap(1); doc["jobs"] = LineList(2); doc.key_lines["jobs"] = 2
>>> doc["jobs"].append("daily"); doc["jobs"].item_lines.append(3)
>>> Where("meltano.yml", "", 1, doc).at("jobs", 0)
Where(file='meltano.yml', key_path='jobs[0]', line=3)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["LineList", "LineMap", "Where", "join_key_path"]


class LineMap(dict[Any, Any]):
    """A YAML mapping that knows the line of each of its keys (1-based)."""

    __slots__ = ("key_lines", "line")

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}


class LineList(list[Any]):
    """A YAML list that knows the line of each of its items (1-based)."""

    __slots__ = ("item_lines", "line")

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


def join_key_path(base: str, key: str | int) -> str:
    """``jobs`` + ``0`` -> ``jobs[0]``; ``jobs[0]`` + ``tasks`` -> ``jobs[0].tasks``."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else str(key)


@dataclass(frozen=True)
class Where:
    """A place in a project file: file, key path and (when known) line.

    ``at(key)`` steps into the YAML value found here, so a rule can point at
    ``plugins.extractors[1].config.company_code`` and still get its line.
    """

    file: str
    key_path: str = ""
    line: int | None = None
    node: Any = field(default=None, compare=False, repr=False)
    """The YAML value at this place (internal: lets :meth:`at` find lines)."""

    def at(self, *keys: str | int) -> Where:
        """The place of ``keys`` below this one (the parent's line when absent)."""
        here = self
        for key in keys:
            node, line, child = here.node, here.line, None
            if isinstance(node, LineMap) and key in node:
                line, child = node.key_lines.get(key, line), node[key]
            elif isinstance(node, LineList) and isinstance(key, int) and 0 <= key < len(node):
                line, child = node.item_lines[key], node[key]
            here = Where(here.file, join_key_path(here.key_path, key), line, child)
        return here
