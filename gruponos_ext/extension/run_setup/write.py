"""``initialize --write``: apply a :class:`~.plan.ProjectPlan` to the project's files.

ruamel.yaml composes each file into nodes that know their exact place in
the text; the writer splices only the changed scalars (a job's first and
last task string) and inserts the new ``guard-<job>`` commands as new lines
indented like their neighbours. Everything else -- comments, key order,
quoting, indentation, blank lines -- stays byte for byte. A file with
nothing to change is not written, so a second ``--write`` changes nothing.
"""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.files import replace_atomically

if TYPE_CHECKING:
    from gruponos_ext.extension.run_setup.plan import JobPlan, ProjectPlan

__all__ = ["ProjectWriteError", "apply_plan"]

_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_ .'/:+-]*")


class ProjectWriteError(GruponosError):
    """meltano.yml (or an included file) could not be read, parsed or written."""

    code = "PROJECT_WRITE_FAILED"


def _compose(path: Path) -> tuple[str, Any]:
    from ruamel.yaml import YAML

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProjectWriteError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return text, YAML(typ="rt").compose(text)
    except Exception as exc:  # ruamel raises many types; the file is the user's
        raise ProjectWriteError(
            f"cannot parse {path}: {type(exc).__name__}; fix it (see `validate`)"
        ) from exc


def _get(node: Any, key: str) -> Any:
    if node is None or getattr(node, "id", None) != "mapping":
        return None
    for k, v in node.value:
        if getattr(k, "value", None) == key:
            return v
    return None


def _items(node: Any) -> list[Any]:
    return list(node.value) if node is not None and getattr(node, "id", None) == "sequence" else []


def _named(sequence: Any, name: str) -> Any:
    return next((item for item in _items(sequence) if _value(_get(item, "name")) == name), None)


def _value(node: Any) -> Any:
    return getattr(node, "value", None) if getattr(node, "id", None) == "scalar" else None


def _scalars(node: Any) -> Iterator[Any]:
    if getattr(node, "id", None) == "scalar":
        yield node
    for item in _items(node):
        yield from _scalars(item)


def _render(text: str, style: str | None) -> str:
    if style == "'":
        return "'" + text.replace("'", "''") + "'"
    if style is None and _PLAIN.fullmatch(text) and ": " not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


def _utilities(root_node: Any) -> Any:
    return _get(_get(root_node, "plugins"), "utilities")


def _task_splices(text: str, node: Any, job: JobPlan, utility: str) -> list[tuple[int, int, str]]:
    tasks = _get(_named(_get(node, "jobs"), job.job), "tasks")
    scalars = list(_scalars(tasks))
    if not scalars:
        return []
    pre, post = f"{utility}:preflight ", f" {utility}:dispose"
    first, last = scalars[0], scalars[-1]
    splices = []
    for scalar in {id(first): first, id(last): last}.values():
        value = str(scalar.value)
        value = (pre if scalar is first else "") + value + (post if scalar is last else "")
        splices.append(
            (scalar.start_mark.index, scalar.end_mark.index, _render(value, scalar.style))
        )
    return splices


def _last_scalar(node: Any) -> Any:
    """The last scalar of ``node`` in the text (block mappings end where the next key starts)."""
    while getattr(node, "id", None) in ("mapping", "sequence") and node.value:
        last = node.value[-1]
        node = last[1] if node.id == "mapping" else last
    return node


def _line_end(text: str, index: int) -> int:
    """Index just past the end of the line holding ``index``."""
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def _command_lines(indent: str, guards: list[tuple[str, str]]) -> str:
    lines = []
    for name, args in guards:
        job = args.partition(" ")[2]
        lines += [
            f"{indent}{_render(name, None)}:",
            f"{indent}  args: {_render(args, None)}",
            f"{indent}  description: "
            + _render(f"Run job {job} between preflight and an always-run dispose.", None),
        ]
    return "\n".join(lines) + "\n"


def _guard_splice(
    text: str, node: Any, utility: str, guards: list[tuple[str, str]]
) -> tuple[int, int, str] | None:
    entry = _named(_utilities(node), utility)
    if entry is None or not guards:
        return None
    commands = _get(entry, "commands")
    if commands is not None and getattr(commands, "id", None) == "mapping" and commands.value:
        if commands.flow_style:
            raise ProjectWriteError(
                f"the commands of {utility} are a flow mapping ({{...}}); write them as a "
                "block mapping, or add the guard commands by hand"
            )
        existing = {_value(k) for k, _ in commands.value}
        new = [(n, a) for n, a in guards if n not in existing]
        if not new:
            return None
        indent = " " * commands.value[0][0].start_mark.column
        at = _line_end(text, _last_scalar(commands).end_mark.index - 1)
        return at, at, _command_lines(indent, new)
    if commands is not None:
        raise ProjectWriteError(f"the commands of {utility} are not a mapping; fix meltano.yml")
    indent = " " * entry.value[0][0].start_mark.column
    at = _line_end(text, _last_scalar(entry).end_mark.index - 1)
    return at, at, f"{indent}commands:\n" + _command_lines(indent + "  ", guards)


def _write(path: Path, text: str) -> None:
    """Replace ``path`` atomically, keeping its permissions."""
    try:
        replace_atomically(path, text, mode=stat.S_IMODE(path.stat().st_mode))
    except OSError as exc:
        raise ProjectWriteError(f"cannot write {path}: {exc.strerror or exc}") from exc


def apply_plan(root: Path, plan: ProjectPlan) -> list[Path]:
    """Write the plan's changes; the files changed (none when there is nothing to do)."""
    guards = [job.guard_command for job in plan.jobs if job.guard_command is not None]
    files: dict[Path, list[JobPlan]] = {}
    for job in plan.jobs:
        if job.new_tasks is not None:
            files.setdefault(root / job.file, []).append(job)
    if guards and plan.utility_file is not None:
        files.setdefault(plan.utility_file, [])
    changed = []
    for path, jobs in files.items():
        text, node = _compose(path)
        splices = [s for job in jobs for s in _task_splices(text, node, job, plan.utility)]
        if plan.utility_file is not None and path.resolve() == plan.utility_file.resolve():
            guard = _guard_splice(text, node, plan.utility, guards)
            if guard is not None:
                splices.append(guard)
        if not splices:
            continue
        for start, end, replacement in sorted(splices, reverse=True):
            text = text[:start] + replacement + text[end:]
        _write(path, text)
        changed.append(path)
    return changed
