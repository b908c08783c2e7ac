"""The Meltano plugin definition matches the settings model exactly, both ways,
names real CLI commands, and a real `meltano add --from-ref` accepts it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from gruponos_ext.config import (
    SETTING_SPECS,
    GruponosMeltanoSettings,
    env_var_for,
    meltano_setting_definitions,
)

DEFINITION = Path(__file__).resolve().parents[1] / "plugin_definitions/gruponos-infra--gruponos.yml"
REGENERATE = (
    'regenerate the settings list with: .venv/bin/python -c "import yaml; from '
    "gruponos_ext.config import meltano_setting_definitions as d; "
    "print(yaml.safe_dump({'settings': d()}, sort_keys=False, width=88))\""
)

EXPECTED_COMMANDS = {
    "describe": "describe",
    "initialize": "initialize",
    "validate": "validate",
    "validate-strict": "validate --strict",
    "health": "health",
    "health-json": "health --format json",
    "health-critical": "health --tag critical",
    "preflight": "preflight",
    "dispose": "dispose",
    "services": "services",
    "graph": "graph",
    "config": "config",
    "history": "history",
    "report": "report",
    "guard": "guard",
}


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    loaded = yaml.safe_load(DEFINITION.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def settings_by_name(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    entries = definition["settings"]
    names = [entry["name"] for entry in entries]
    assert len(names) == len(set(names)), "duplicate setting names"
    return {entry["name"]: entry for entry in entries}


def _is_secret(name: str) -> bool:
    annotation = GruponosMeltanoSettings.model_fields[name].annotation
    return SecretStr in typing.get_args(annotation) or annotation is SecretStr


def test_identity_executable_and_pip_url(definition: dict[str, Any]) -> None:
    assert definition["name"] == "gruponos-infra"
    assert definition["namespace"] == "gruponos_infra"
    assert definition["variant"] == "gruponos"
    assert definition["executable"] == "gruponos_extension"
    assert definition["pip_url"] == "gruponos-infra"
    assert definition["label"] and definition["description"]


def test_commands_are_exactly_the_documented_ones(definition: dict[str, Any]) -> None:
    commands = {name: entry["args"] for name, entry in definition["commands"].items()}
    assert commands == EXPECTED_COMMANDS
    assert all(entry.get("description") for entry in definition["commands"].values())


def test_every_command_parses_with_the_real_cli(definition: dict[str, Any]) -> None:
    import shlex

    from gruponos_ext.extension.cli import cli

    # What `meltano invoke gruponos-infra:<command> EXTRA` appends for the two
    # commands that need an argument.
    extra = {"preflight": ["--job", "daily"], "guard": ["daily"]}
    for name, entry in definition["commands"].items():
        argv = [*shlex.split(entry["args"]), *extra.get(name, [])]
        ctx = cli.make_context("gruponos_extension", list(argv), resilient_parsing=False)
        sub = cli.get_command(ctx, argv[0])
        assert sub is not None, f"command {name!r}: no CLI subcommand {argv[0]!r}"
        sub.make_context(argv[0], argv[1:], parent=ctx)  # raises on a bad option


def test_definition_settings_and_model_fields_match_both_ways(
    settings_by_name: dict[str, dict[str, Any]],
) -> None:
    model = list(GruponosMeltanoSettings.model_fields)
    in_definition = list(settings_by_name)
    assert sorted(set(model) - set(in_definition)) == [], "model fields missing from definition"
    assert sorted(set(in_definition) - set(model)) == [], "definition settings not in the model"
    assert in_definition == model, "keep the definition in model order"


def test_sensitive_flags_match_secretstr_fields(
    settings_by_name: dict[str, dict[str, Any]],
) -> None:
    for name, entry in settings_by_name.items():
        secret = _is_secret(name)
        assert bool(entry.get("sensitive")) is secret, name
        assert (entry["kind"] == "password") is secret, name


def test_no_typed_meltano_kinds(settings_by_name: dict[str, dict[str, Any]]) -> None:
    # integer/decimal/options/array crash Meltano on a bad value and boolean
    # silently turns one into false (see the comment in the definition); the
    # extension parses every value itself.
    assert {entry["kind"] for entry in settings_by_name.values()} == {"string", "password"}


def test_defaults_agree_with_the_model(settings_by_name: dict[str, dict[str, Any]]) -> None:
    model_fields = GruponosMeltanoSettings.model_fields
    baseline = GruponosMeltanoSettings.from_env({})
    for name, entry in settings_by_name.items():
        if "value" not in entry:
            # no static default: unset in the model, or derived from MELTANO_* variables
            spec = next(s for s in SETTING_SPECS if s.name == name)
            assert spec.default is None, name
            continue
        value = entry["value"]
        assert isinstance(value, str), f"{name}: Meltano exports defaults as strings"
        # The value Meltano exports must parse to the model's own default.
        parsed = GruponosMeltanoSettings.from_env({env_var_for(name): value})
        assert getattr(parsed, name) == model_fields[name].default, name
        assert getattr(parsed, name) == getattr(baseline, name), name
    # and every static, non-empty model default is declared
    for name, info in model_fields.items():
        static = info.default is not None and info.default_factory is None
        dynamic = name in {"environment", "project_root", "state_dir"}
        if static and not dynamic:
            assert "value" in settings_by_name[name], f"{name}: default missing from definition"


def test_labels_and_descriptions_are_those_of_the_model(definition: dict[str, Any]) -> None:
    assert definition["settings"] == meltano_setting_definitions(), REGENERATE
    for entry in definition["settings"]:
        assert entry["label"] and entry["description"], entry["name"]


def test_secret_fields_have_no_default(settings_by_name: dict[str, dict[str, Any]]) -> None:
    for name, entry in settings_by_name.items():
        if _is_secret(name):
            assert "value" not in entry, name
            assert GruponosMeltanoSettings.model_fields[name].default is None


# --------------------------------------------------------------------------- real meltano


def _meltano() -> Path:
    meltano = Path(sys.executable).parent / "meltano"
    if not meltano.exists():
        pytest.skip(f"no meltano next to {sys.executable}")
    return meltano


def _quiet_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GRUPONOS_INFRA_", "MELTANO_")) and k != "VIRTUAL_ENV"
    }
    env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["MELTANO_CLI_DISABLE_VERSION_CHECK"] = "true"
    return env


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.e2e
def test_meltano_add_from_ref_into_a_fresh_project(tmp_path: Path) -> None:
    meltano, env = _meltano(), _quiet_env()
    init = _run([str(meltano), "init", "proj"], tmp_path, env)
    assert init.returncode == 0, init.stderr
    project = tmp_path / "proj"

    add = _run(
        [str(meltano), "add", "--from-ref", str(DEFINITION), "gruponos-infra", "--no-install"],
        project,
        env,
    )
    assert add.returncode == 0, add.stdout + add.stderr

    meltano_yml = yaml.safe_load((project / "meltano.yml").read_text(encoding="utf-8"))
    (plugin,) = meltano_yml["plugins"]["utilities"]
    assert plugin["name"] == "gruponos-infra"
    assert plugin["namespace"] == "gruponos_infra"
    assert plugin["executable"] == "gruponos_extension"
    assert set(plugin["commands"]) == set(EXPECTED_COMMANDS)
    assert [s["name"] for s in plugin["settings"]] == list(GruponosMeltanoSettings.model_fields)

    # Meltano reads the definition and passes bad values through untouched
    # (a typed kind would crash here or turn 'abc' into false), masking secrets.
    planted = "Pl4nted-in-e2e"
    bad = {
        **env,
        "GRUPONOS_INFRA_ORACLE_PORT": "abc",
        "GRUPONOS_INFRA_WMS_VERIFY_TLS": "abc",
        "GRUPONOS_INFRA_ORACLE_PASSWORD": planted,
    }
    printed = _run([str(meltano), "config", "print", "gruponos-infra"], project, bad)
    assert printed.returncode == 0, printed.stderr
    config = json.loads(printed.stdout)
    assert set(config) == set(GruponosMeltanoSettings.model_fields)
    assert config["oracle_port"] == "abc"
    assert config["wms_verify_tls"] == "abc"
    assert config["oracle_call_timeout"] == "60"  # the definition default
    assert planted not in printed.stdout + printed.stderr
