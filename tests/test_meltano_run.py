"""Reading the `meltano run` a block belongs to: Meltano's own click command and
TaskSets are the oracle for the command-line parser and the job expansion; the
attribution of lifecycle blocks; `initialize --write` on a commented project."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import click
import pytest

from gruponos_ext.extension.meltano_run.argv import (
    GLOBAL_OPTIONS,
    RUN_OPTIONS,
    parse_meltano_argv,
)
from gruponos_ext.extension.meltano_run.attribution import (
    BlockLog,
    job_blocks,
    lifecycle_blocks,
    pick,
    utility_commands,
)
from gruponos_ext.extension.run_setup.plan import plan_project
from gruponos_ext.extension.run_setup.write import apply_plan
from gruponos_ext.project import read_model

meltano_cli = pytest.importorskip("meltano.cli")
from meltano.cli.run import run as meltano_run  # noqa: E402
from meltano.core.task_sets import TaskSets  # noqa: E402

PROGRAM = ["/srv/.venv/bin/python", "/srv/.venv/bin/meltano"]
UUID = "7b0e3c1e-9a34-4c7e-8f43-0b1d6a5e2f10"

COMMAND_LINES = [
    ["run", "job-a"],
    ["run", "job-a", "job-b"],
    ["run", "--force", "job-a"],
    ["run", "-f", "job-a"],
    ["run", "job-a", "-f"],
    ["run", "job-a", "--force", "job-b"],
    ["run", "--dry-run", "job-a"],
    ["run", "--full-refresh", "--refresh-catalog", "--no-state-update", "job-a"],
    ["run", "--state-id-suffix", "nightly", "job-a"],
    ["run", "--state-id-suffix=nightly", "job-a"],
    ["run", "--state_id_suffix", "x", "job-a"],
    ["run", "--state-id-suffix", "job-a", "job-b"],
    ["run", "--run-id", UUID, "job-a"],
    ["run", f"--run-id={UUID}", "tap-x", "target-y"],
    ["run", "--merge-state", "--state-strategy", "merge", "job-a"],
    ["run", "--timeout", "30", "job-a"],
    ["run", "--install", "job-a"],
    ["run", "--no-install", "job-a"],
    ["run", "--only-install", "job-a"],
    ["run", "--database-uri", "sqlite:////tmp/x.db", "job-a"],
    ["run", "--", "--job-named-like-an-option"],
    ["run", "tap-x", "--", "-f"],
    ["run", "gruponos-infra:preflight", "tap-x", "target-y", "gruponos-infra:dispose"],
    ["--environment", "prod", "run", "job-a"],
    ["--environment=prod", "run", "job-a"],
    ["--no-environment", "run", "job-a"],
    ["--log-level", "debug", "run", "--force", "job-a"],
    ["--log_level=info", "run", "job-a"],
    ["--cwd", "/tmp", "run", "job-a"],
    ["--env-file", "/tmp/x.env", "--log-format", "json", "run", "job-a"],
    ["--", "run", "job-a"],
    ["invoke", "gruponos-infra:health"],
    ["install"],
    ["run"],
    ["run", "--force"],
    ["run", "--state-id-suffix"],
    ["run", "--no-such-option", "job-a"],
    ["run", "--force=yes", "job-a"],
    ["--no-such-global", "run", "job-a"],
    ["run", "-x", "job-a"],
    ["run", "-"],
]


def _meltano_parse(args: list[str]) -> tuple[str | None, tuple[str, ...], dict[str, Any]] | None:
    """(command, blocks, run params) as Meltano's click definitions parse ``args``."""
    try:
        # Meltano's install option callback reads ctx.obj["project"]: None = not loaded.
        ctx = meltano_cli.cli.make_context("meltano", list(args), obj={"project": None})
        rest = [*ctx._protected_args, *ctx.args]
        if not rest:
            return None, (), {}
        name, _, sub_args = meltano_cli.cli.resolve_command(ctx, rest)
        if name != "run":
            return name, tuple(sub_args), {}
        sub = meltano_run.make_context("run", list(sub_args), parent=ctx)
    except click.exceptions.ClickException:
        return "error", (), {}
    return "run", tuple(sub.params["blocks"]), dict(sub.params)


@pytest.mark.parametrize("args", COMMAND_LINES, ids=[" ".join(a) or "-" for a in COMMAND_LINES])
def test_command_lines_parse_as_meltanos_own_click_command_parses_them(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MELTANO_RUN_FORCE", "MELTANO_RUN_STATE_ID_SUFFIX", "MELTANO_RUN_ID"):
        monkeypatch.delenv(name, raising=False)
    expected = _meltano_parse(args)
    ours = parse_meltano_argv([*PROGRAM, *args])

    if expected is not None and expected[0] == "error":
        assert ours is None or not ours.is_run or ours.arguments == (), args
        return
    assert ours is not None
    command, blocks, params = expected if expected is not None else (None, (), {})
    assert ours.command == command
    if command == "run":
        assert ours.arguments == blocks
        assert ours.dry_run == params["dry_run"]
        assert bool(ours.options.get("--force")) == params["force"]
        assert ours.options.get("--state-id-suffix") == params["state_id_suffix"]


def test_option_tables_are_meltanos_options() -> None:
    def table(command: click.Command) -> dict[str, bool]:
        found = {"--help": False}
        for param in command.params:
            if isinstance(param, click.Option):
                for opt in [*param.opts, *param.secondary_opts]:
                    found[opt] = not param.is_flag
        return found

    assert table(meltano_cli.cli) == dict(GLOBAL_OPTIONS)
    assert table(meltano_run) == dict(RUN_OPTIONS)


@pytest.mark.parametrize(
    "argv",
    [
        ["meltano", "run", "job"],
        ["/usr/bin/python3.11", "-m", "meltano", "run", "job"],
        ["python3", "-u", "-X", "dev", "/v/bin/meltano", "run", "job"],
        ["/v/bin/pypy3", "/v/bin/meltano", "run", "job"],
    ],
)
def test_meltano_is_recognised_however_it_was_started(argv: list[str]) -> None:
    line = parse_meltano_argv(argv)
    assert line is not None and line.is_run and line.arguments == ("job",)


@pytest.mark.parametrize(
    "argv",
    [[], ["python3", "-c", "import meltano"], ["/bin/sh", "-c", "meltano run x"], ["meltanox"]],
)
def test_other_processes_are_not_meltano(argv: list[str]) -> None:
    assert parse_meltano_argv(argv) is None


@pytest.mark.parametrize(
    "tasks",
    [
        ["tap-x target-y"],
        ["tap-x target-y", "dbt:run"],
        [["tap-x target-y"], ["dbt:run", "dbt:test"]],
        ["a  b"],
        ["infra:preflight tap target infra:dispose"],
    ],
)
def test_job_expansion_matches_meltanos_task_sets(tasks: list[Any], tmp_path: Path) -> None:
    (tmp_path / "meltano.yml").write_text(json.dumps({"jobs": [{"name": "job", "tasks": tasks}]}))
    model, _ = read_model(tmp_path)

    assert job_blocks(model) == {"job": TaskSets(name="job", tasks=tasks).flat_args}


def test_jobs_and_commands_come_from_included_files_and_inheritance(tmp_path: Path) -> None:
    (tmp_path / "meltano.yml").write_text(
        "include_paths: ['jobs/*.yml']\n"
        "plugins:\n"
        "  utilities:\n"
        "  - name: base-infra\n"
        "    namespace: gruponos_infra\n"
        "    commands: {preflight-a: preflight --job a, health: {args: health}}\n"
        "  - name: infra\n"
        "    inherit_from: base-infra\n"
        "    commands: {preflight-a: preflight --job legacy}\n"
        "jobs:\n"
        "- name: a\n"
        "  tasks: [infra:preflight-a tap target]\n"
    )
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs/more.yml").write_text(
        "jobs:\n- name: b\n  tasks: [[infra:preflight tap], [target infra:dispose]]\n"
    )
    model, _ = read_model(tmp_path)

    assert job_blocks(model) == {
        "a": ["infra:preflight-a", "tap", "target"],
        "b": ["infra:preflight", "tap", "target", "infra:dispose"],
    }
    # The nearest definition wins, as Meltano's inheritance has it.
    assert utility_commands(model, "infra") == {
        "preflight-a": "preflight --job legacy",
        "health": "health",
    }
    assert utility_commands(model, "other") == {}
    assert (job_blocks(None), utility_commands(None, "infra")) == ({}, {})


# -- attribution ------------------------------------------------------------------------
JOBS = {
    "job-a": ["infra:preflight", "tap-a", "target-a", "infra:dispose"],
    "job-b": ["infra:preflight", "tap-b", "target-b", "infra:dispose"],
    "old": ["infra:preflight-old", "tap-a", "target-a", "infra:dispose-old"],
}
COMMANDS = {"preflight-old": "preflight --job legacy", "dispose-old": "dispose --job=legacy"}


def test_each_block_of_two_jobs_in_one_run_stands_for_its_own_job() -> None:
    blocks = lifecycle_blocks(["job-a", "job-b"], JOBS, "infra", COMMANDS)

    assert [(b.role, b.lock, b.source) for b in blocks] == [
        ("preflight", "job-a", "job"),
        ("dispose", "job-a", "job"),
        ("preflight", "job-b", "job"),
        ("dispose", "job-b", "job"),
    ]
    assert pick(blocks, "preflight", 0) == blocks[0]
    assert pick(blocks, "dispose", 1) == blocks[3]
    reason = pick(blocks, "preflight", None)
    assert isinstance(reason, str) and "job-a, job-b" in reason
    assert isinstance(pick(blocks, "dispose", 2), str)


def test_explicit_job_wins_and_inline_blocks_are_named_after_what_they_bracket() -> None:
    blocks = lifecycle_blocks(
        ["old", "infra:preflight", "tap-x", "target-y", "infra:dispose", "other:cmd"],
        JOBS,
        "infra",
        COMMANDS,
    )

    assert [(b.lock, b.source) for b in blocks] == [
        ("legacy", "explicit"),
        ("legacy", "explicit"),
        ("inline:tap-x+target-y", "inline"),
        ("inline:tap-x+target-y", "inline"),
    ]


def test_a_single_job_needs_no_block_log() -> None:
    blocks = lifecycle_blocks(["job-a"], JOBS, "infra", {})
    assert pick(blocks, "dispose", None) == blocks[1]
    assert isinstance(
        pick(lifecycle_blocks(["tap-x", "target-y"], JOBS, "infra", {}), "dispose", 0), str
    )


def test_the_block_log_counts_per_role_and_the_last_block_removes_it(tmp_path: Path) -> None:
    log = BlockLog.for_run(tmp_path, "4242-some/context")
    log.append("preflight", "job-a", last=False)
    log.append("dispose", "job-a", last=False)
    log.append("preflight", "job-b", last=False)

    assert (log.count("preflight"), log.count("dispose")) == (2, 1)
    assert log.path.parent == tmp_path / "blocks"
    log.append("dispose", "job-b", last=True)
    assert not log.path.exists()


# -- initialize --write ---------------------------------------------------------------------
COMMENTED_MAIN = """\
# Our pipelines. Reviewed by the data team.
version: 1
plugins:
  extractors:
  - name: tap-jsonl   # the source
    namespace: tap_jsonl
  utilities:
    - name: gruponos-infra     # infrastructure
      namespace: gruponos_infra
      commands:
        health: health   # keep me
include_paths:
  - ./jobs/*.yml
"""
COMMENTED_JOBS = """\
jobs:
# The nightly load
- name: nightly
  tasks:
  - tap-jsonl target-jsonl   # the EL pair
  - 'dbt:run'
- name: odd job
  tasks: tap-a target-b
"""


def test_initialize_write_keeps_every_comment_and_a_second_write_changes_nothing(
    tmp_path: Path,
) -> None:
    (tmp_path / "meltano.yml").write_text(COMMENTED_MAIN, encoding="utf-8")
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs/nightly.yml").write_text(COMMENTED_JOBS, encoding="utf-8")

    changed = apply_plan(tmp_path, plan_project(tmp_path, "gruponos-infra"))

    main = (tmp_path / "meltano.yml").read_text(encoding="utf-8")
    jobs = (tmp_path / "jobs/nightly.yml").read_text(encoding="utf-8")
    assert sorted(p.name for p in changed) == ["meltano.yml", "nightly.yml"]
    assert main == COMMENTED_MAIN.replace(
        "        health: health   # keep me\n",
        "        health: health   # keep me\n"
        "        guard-nightly:\n"
        "          args: guard nightly\n"
        "          description: Run job nightly between preflight and an always-run dispose.\n"
        "        guard-odd-job:\n"
        "          args: guard 'odd job'\n"
        "          description: Run job 'odd job' between preflight and an always-run dispose.\n",
    )
    assert jobs == (
        COMMENTED_JOBS.replace(
            "  - tap-jsonl target-jsonl   # the EL pair\n  - 'dbt:run'\n",
            "  - gruponos-infra:preflight tap-jsonl target-jsonl   # the EL pair\n"
            "  - 'dbt:run gruponos-infra:dispose'\n",
        ).replace(
            "  tasks: tap-a target-b\n",
            "  tasks: gruponos-infra:preflight tap-a target-b gruponos-infra:dispose\n",
        )
    )
    again = plan_project(tmp_path, "gruponos-infra")
    assert not again.changes
    assert apply_plan(tmp_path, again) == []
    assert (tmp_path / "meltano.yml").read_text(encoding="utf-8") == main


def test_initialize_write_keeps_each_file_s_permissions_and_leaves_no_temporary_file(
    tmp_path: Path,
) -> None:
    main, jobs = tmp_path / "meltano.yml", tmp_path / "jobs/nightly.yml"
    main.write_text(COMMENTED_MAIN, encoding="utf-8")
    jobs.parent.mkdir()
    jobs.write_text(COMMENTED_JOBS, encoding="utf-8")
    main.chmod(0o640)
    jobs.chmod(0o604)

    apply_plan(tmp_path, plan_project(tmp_path, "gruponos-infra"))

    assert (stat.S_IMODE(main.stat().st_mode), stat.S_IMODE(jobs.stat().st_mode)) == (
        0o640,
        0o604,
    )
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "meltano.yml",
        "nightly.yml",
    ]
