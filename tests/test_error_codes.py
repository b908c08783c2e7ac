"""Every error class of the package has its own stable code, and the README documents it.

Codes are public API (Results, JSON reports, logs); an error's ``exit_code``
is the CLI's exit status when it stops a command. The rule: each
``GruponosError`` class that sets ``code`` sets one no other class sets; a
subclass that sets none shares its parent's code on purpose (a narrower
class of the same failure). README.md's "Error codes" table lists every code
with its exit status.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections import defaultdict
from pathlib import Path

import gruponos_ext
from gruponos_ext.core.errors import GruponosError

README = Path(__file__).resolve().parent.parent / "README.md"
# | `CODE` | meaning | exit |   (exit: 1, 2, or "-" for a code carried only by a Result)
_ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|[^|]*\|\s*(\d+|-)\s*\|\s*$")


def _error_classes() -> list[type[GruponosError]]:
    for module in pkgutil.walk_packages(gruponos_ext.__path__, "gruponos_ext."):
        importlib.import_module(module.name)
    found: dict[type[GruponosError], None] = {GruponosError: None}
    pending = [GruponosError]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub not in found and sub.__module__.startswith("gruponos_ext."):
                found[sub] = None
                pending.append(sub)
    return list(found)


def _where(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _documented() -> dict[str, str]:
    """code -> exit column, from the table under README.md's "Error codes" heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index("### Error codes")
    end = text.find("\n#", start + 1)
    section = text[start : end if end != -1 else len(text)]
    return {m[1]: m[2] for m in map(_ROW.match, section.splitlines()) if m}


def test_the_package_has_error_classes_to_check() -> None:
    codes = {cls.code for cls in _error_classes()}
    assert {"SERVICE_NOT_FOUND", "INVALID_SETTINGS", "ORACLE_AUTH_FAILED"} <= codes


def test_every_error_code_is_set_by_one_class_only() -> None:
    setters: defaultdict[str, list[str]] = defaultdict(list)
    for cls in _error_classes():
        if "code" in cls.__dict__:
            setters[cls.code].append(_where(cls))
    shared = {code: where for code, where in setters.items() if len(where) > 1}
    assert not shared, (
        "each error class that sets `code` needs a code of its own (to share a code, "
        f"subclass the class that has it and set none): {shared}"
    )


def test_every_exit_code_is_1_or_2() -> None:
    wrong = {_where(c): c.exit_code for c in _error_classes() if c.exit_code not in (1, 2)}
    assert not wrong, f"exit_code is 1 (failed) or 2 (bad usage or settings): {wrong}"


def test_every_error_code_is_in_the_readme_table_with_its_exit_status() -> None:
    documented = _documented()
    missing: list[str] = []
    wrong_exit: list[str] = []
    for cls in _error_classes():
        if "code" not in cls.__dict__:
            continue
        row = f"| `{cls.code}` | <what it means> | {cls.exit_code} |"
        if cls.code not in documented:
            missing.append(f"{cls.code} ({_where(cls)}): add the row {row}")
        elif documented[cls.code] != str(cls.exit_code):
            wrong_exit.append(
                f"{cls.code} ({_where(cls)}): the table says exit {documented[cls.code]}, "
                f"the class says {cls.exit_code}"
            )
    assert not missing, "README.md's 'Error codes' table lacks:\n" + "\n".join(missing)
    assert not wrong_exit, "README.md's 'Error codes' table is wrong:\n" + "\n".join(wrong_exit)
