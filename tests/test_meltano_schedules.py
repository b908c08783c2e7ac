"""The schedule adapter reads meltano.yml as Meltano does: parity with ``meltano schedule list``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from meltano.core.schedule import CRON_INTERVALS

from gruponos_ext.health.meltano_schedules import ScheduleSourceError, read_schedules
from gruponos_ext.health.schedules import ScheduleSpec, cron_of
from tests.support.meltano import offline_meltano_env

MELTANO_BIN = Path(sys.executable).parent / "meltano"

MAIN = """\
project_id: 0b7a6a6e-8a34-4f5d-9d0e-1c2f3a4b5c6d
send_anonymous_usage_stats: false
default_environment: dev
include_paths:
- ./schedules/*.meltano.yml
- ./schedules/*.meltano.yml
environments:
- name: dev
- name: prod
plugins:
  extractors:
  - name: tap-x
    namespace: tap_x
    pip_url: tap-x
  loaders:
  - name: target-y
    namespace: target_y
    pip_url: target-y
jobs:
- name: job-a
  tasks:
  - tap-x target-y
schedules:
- name: a-every-minute
  interval: '* * * * *'
  job: job-a
- name: a-manual
  interval: '@manual'
  job: job-a
- name: legacy-elt
  interval: '@daily'
  extractor: tap-x
  loader: target-y
  transform: skip
"""

INCLUDED = """\
jobs:
- name: job-b
  tasks:
  - tap-x target-y
schedules:
- name: b-hourly
  interval: '@HOURLY'
  job: job-b
- name: b-weekdays
  interval: 0 9 * * 1-5
  job: job-b
- name: b-once
  interval: '@once'
  job: job-b
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "schedules").mkdir(parents=True)
    (root / "meltano.yml").write_text(MAIN)
    (root / "schedules" / "more.meltano.yml").write_text(INCLUDED)
    return root


def test_schedules_of_meltano_yml_and_its_included_files_in_meltanos_order(project: Path) -> None:
    specs = read_schedules(project)
    assert specs == [
        ScheduleSpec("a-every-minute", "job-a", "* * * * *"),
        ScheduleSpec("a-manual", "job-a", "@manual"),
        ScheduleSpec("legacy-elt", "legacy-elt", "@daily"),
        ScheduleSpec("b-hourly", "job-b", "@HOURLY", source="schedules/more.meltano.yml"),
        ScheduleSpec("b-weekdays", "job-b", "0 9 * * 1-5", source="schedules/more.meltano.yml"),
        ScheduleSpec("b-once", "job-b", "@once", source="schedules/more.meltano.yml"),
    ]


def meltano_schedule_list(
    project: Path, environment: str | None
) -> set[tuple[str, str, str | None]]:
    args = [str(MELTANO_BIN), "--cwd", str(project)]
    if environment:
        args += ["--environment", environment]
    done = subprocess.run(
        [*args, "schedule", "list", "--format=json"],
        env=offline_meltano_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    listed = json.loads(done.stdout)["schedules"]
    found = {(s["name"], s["job"]["name"], s["cron_interval"]) for s in listed["job"]}
    found |= {(s["name"], s["name"], s["cron_interval"]) for s in listed["elt"]}
    return found


@pytest.mark.e2e
@pytest.mark.parametrize("environment", [None, "prod"])
def test_the_adapter_finds_the_schedules_meltano_lists(
    project: Path, environment: str | None
) -> None:
    # Meltano 4.4.1 lists the included schedules twice with an active environment;
    # compared as sets, the schedules are the same. The legacy form's runs are
    # recorded under the schedule's name (Meltano's --state-id), hence name == job.
    ours = {(s.name, s.job, cron_of(s.interval)) for s in read_schedules(project, environment)}
    meltano = {
        # Meltano's cron_interval keeps an alias in another case as written ("@HOURLY");
        # its is_valid_cron, and this adapter, read it case-insensitively.
        (name, job, CRON_INTERVALS.get(cron.lower(), cron) if cron else cron)
        for name, job, cron in meltano_schedule_list(project, environment)
    }
    assert ours == meltano


def write(project: Path, text: str, name: str = "meltano.yml") -> None:
    (project / name).write_text(textwrap.dedent(text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schedules: [\n", "meltano.yml is not valid YAML (line 2); fix it"),
        ("- a\n- b\n", "meltano.yml must be a mapping of top-level keys"),
        ("schedules: {a: 1}\n", "meltano.yml: schedules must be a list"),
        ("schedules:\n- interval: '@daily'\n", "meltano.yml: schedules[0] has no name"),
        ("schedules:\n- name: x\n  interval: 5\n", "meltano.yml: schedules[0] ('x'): interval"),
        ("include_paths: ./x.yml\n", "meltano.yml: include_paths must be a list of glob patterns"),
    ],
)
def test_a_broken_file_is_one_clear_error_naming_it(
    tmp_path: Path, text: str, message: str
) -> None:
    write(tmp_path, text)
    with pytest.raises(ScheduleSourceError) as info:
        read_schedules(tmp_path)
    assert info.value.code == "SCHEDULES_UNREADABLE"
    assert info.value.message.startswith(message)
    assert "\n" not in info.value.message


def test_a_missing_meltano_yml_is_named_and_marked_missing(tmp_path: Path) -> None:
    with pytest.raises(ScheduleSourceError, match=r"no meltano.yml in .*: not a Meltano project"):
        read_schedules(tmp_path)
    with pytest.raises(ScheduleSourceError) as info:
        read_schedules(tmp_path)
    assert info.value.details["reason"] == "missing"


def test_an_unreadable_meltano_yml_is_named(tmp_path: Path) -> None:
    (tmp_path / "meltano.yml").mkdir()
    with pytest.raises(ScheduleSourceError, match=r"cannot read meltano.yml: Is a directory"):
        read_schedules(tmp_path)


def test_an_include_pattern_matching_a_directory_is_refused_as_meltano_does(
    tmp_path: Path,
) -> None:
    (tmp_path / "dir.meltano.yml").mkdir()
    write(tmp_path, "include_paths: ['./*.meltano.yml']\n")
    with pytest.raises(ScheduleSourceError, match="is not a file inside the project"):
        read_schedules(tmp_path)


def test_an_empty_file_has_no_schedules(tmp_path: Path) -> None:
    write(tmp_path, "")
    assert read_schedules(tmp_path) == []
