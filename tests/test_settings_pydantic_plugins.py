"""Third-party pydantic plugins never see our settings; other models keep theirs.

A pydantic plugin (entry-point group ``pydantic``) is handed every input of
the models it observes. These tests install a real one, as a distribution on
``sys.path`` whose plugin writes down every input it is shown, and run a
fresh interpreter that loads the settings with a planted password, then
validates a model of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.secrets import assert_no_leak, leak_forms

PLANTED = "plugin-must-not-see-Zq81"

_SPY_PLUGIN = """
import json, os

class _Handler:
    def on_enter(self, input, *args, **kwargs):
        with open(os.environ["SPY_LOG"], "a") as log:
            log.write(json.dumps(repr(input)) + "\\n")

class _Plugin:
    def new_schema_validator(self, schema, schema_type, path, kind, config, settings):
        return _Handler(), _Handler(), _Handler()

plugin = _Plugin()
"""

_PROGRAM = """
import json, os, sys
import gruponos_ext.config as config
after_import = "importlib.metadata" in sys.modules
config.GruponosMeltanoSettings.from_env(os.environ)
from pydantic import BaseModel
class Theirs(BaseModel):
    value: str
Theirs(value="their-own-input")
print(json.dumps({"metadata_after_import": after_import}))
"""


def _install_spy(site: Path) -> None:
    (site / "spy_plugin.py").write_text(_SPY_PLUGIN)
    dist = site / "spy_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: spy-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[pydantic]\nspy = spy_plugin:plugin\n")


def _run_program(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """:data:`_PROGRAM` in a fresh interpreter with only ``env`` (and PATH, a state directory)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_PROGRAM)],
        env={"PATH": "/usr/bin:/bin", "GRUPONOS_INFRA_STATE_DIR": str(tmp_path / "state"), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_pydantic_plugin_sees_other_models_but_never_the_settings(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _install_spy(site)
    log = tmp_path / "spy.log"
    env = {"PYTHONPATH": str(site), "SPY_LOG": str(log), "GRUPONOS_INFRA_ORACLE_PASSWORD": PLANTED}

    done = _run_program(tmp_path, **env)

    assert done.returncode == 0, done.stderr
    seen = log.read_text()
    assert "their-own-input" in seen  # the plugin is installed and works
    assert_no_leak(seen, leak_forms(PLANTED), where="what the plugin was shown")
    assert_no_leak(done.stdout + done.stderr, leak_forms(PLANTED), where="the output")


def test_building_the_settings_validator_does_not_import_importlib_metadata(
    tmp_path: Path,
) -> None:
    done = _run_program(tmp_path)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"metadata_after_import": False}
