"""Imports point one way: the lower layers never import the ones built on them.

Read from the source (every ``import`` and ``from ... import``, type-only ones
too), so a cycle cannot hide behind a lazy import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gruponos_ext"

# What each layer may import from the package besides itself. The check model
# (health.model) is the vocabulary in which state and services report a check.
ALLOWED: dict[str, set[str]] = {
    "core": {"_lazy"},
    "config": {"_lazy", "core"},
    "project": {"_lazy", "core", "config"},
    "state": {"_lazy", "core", "health.model"},
    "report": {"_lazy", "core", "state"},
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(n for n in names if n.startswith("gruponos_ext."))
    return found


def _allowed(module: str, allowed: set[str]) -> bool:
    inner = module.removeprefix("gruponos_ext.")
    return any(inner == a or inner.startswith(a + ".") for a in allowed)


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_a_layer_imports_only_the_layers_below_it(layer: str) -> None:
    allowed = ALLOWED[layer] | {layer}
    wrong = sorted(
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path in (PACKAGE / layer).rglob("*.py")
        for module in _imports(path)
        if not _allowed(module, allowed)
    )
    assert wrong == []


def test_the_check_model_imports_nothing_above_core() -> None:
    modules = _imports(PACKAGE / "health" / "model.py")
    assert [m for m in modules if not _allowed(m, {"core", "_lazy"})] == []


def test_the_layer_test_sees_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("if True:\n    from gruponos_ext.extension.cli import main\n")
    assert not all(_allowed(m, ALLOWED["core"]) for m in _imports(bad))
