"""The project's schedules are read as Meltano reads them: parity with ``meltano schedule list``.

``gruponos_ext.project.read_schedules`` is what ``schedules:freshness`` and the status page
read; it shares the project model's file loading and ``include_paths`` handling.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from meltano.core.schedule import CRON_INTERVALS

from gruponos_ext.project import ScheduleSourceError, read_schedules
from gruponos_ext.project.cron import cron_of
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
    schedules = read_schedules(project)
    # The included file is matched by two patterns: it is read, and listed, once.
    assert [(s.name, s.run_job, s.interval, s.where.file) for s in schedules] == [
        ("a-every-minute", "job-a", "* * * * *", "meltano.yml"),
        ("a-manual", "job-a", "@manual", "meltano.yml"),
        ("legacy-elt", "legacy-elt", "@daily", "meltano.yml"),
        ("b-hourly", "job-b", "@HOURLY", "schedules/more.meltano.yml"),
        ("b-weekdays", "job-b", "0 9 * * 1-5", "schedules/more.meltano.yml"),
        ("b-once", "job-b", "@once", "schedules/more.meltano.yml"),
    ]
    assert [s.kind for s in schedules] == ["job", "job", "elt", "job", "job", "job"]


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
def test_the_schedules_read_are_the_ones_meltano_lists(
    project: Path, environment: str | None
) -> None:
    # Meltano 4.4.1 lists the included schedules twice with an active environment;
    # compared as sets, the schedules are the same. The legacy form's runs are
    # recorded under the schedule's name (Meltano's --state-id), hence name == job.
    ours = {(s.name, s.run_job, cron_of(s.interval)) for s in read_schedules(project)}
    meltano = {
        # Meltano's cron_interval keeps an alias in another case as written ("@HOURLY");
        # its is_valid_cron, and cron_of, read it case-insensitively.
        (name, job, CRON_INTERVALS.get(cron.lower(), cron) if cron else cron)
        for name, job, cron in meltano_schedule_list(project, environment)
    }
    assert ours == meltano


def write(project: Path, text: str, name: str = "meltano.yml") -> None:
    (project / name).write_text(textwrap.dedent(text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "meltano.yml: meltano.yml is empty: Meltano refuses to load the project"),
        ("schedules: [\n", "meltano.yml:2: line 2, column 1: invalid YAML: did not find"),
        ("- a\n- b\n", "meltano.yml: the file must hold a mapping of keys at its top level"),
        ("schedules: {a: 1}\n", "meltano.yml:1: schedules: must be a list"),
        ("schedules:\n- interval: '@daily'\n", "meltano.yml:2: schedules[0]: a schedule has no"),
        ("include_paths: ./x.yml\n", "meltano.yml:1: include_paths[0]: '.' is not a usable"),
    ],
)
def test_a_file_meltano_cannot_load_is_one_clear_error_naming_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    write(tmp_path, text)
    with pytest.raises(ScheduleSourceError) as info:
        read_schedules(tmp_path)
    assert info.value.code == "SCHEDULES_UNREADABLE"
    prefix = f"cannot read the schedules of the Meltano project at {tmp_path}: "
    assert info.value.message.startswith(prefix + message)
    assert "\n" not in info.value.message


def test_mistakes_outside_the_schedules_are_left_to_validate(tmp_path: Path) -> None:
    # Meltano refuses both (settings as a mapping, an unknown environment key), but the
    # schedules are plain to read: freshness can still judge them.
    write(
        tmp_path,
        """\
        plugins:
          extractors:
          - name: tap-x
            settings: {user: {kind: string}}
        environments:
        - name: dev
          variables: {A: b}
        schedules:
        - name: daily
          interval: '@daily'
          job: job-a
        """,
    )
    assert [s.name for s in read_schedules(tmp_path)] == ["daily"]


def test_a_missing_meltano_yml_is_named_and_marked_missing(tmp_path: Path) -> None:
    with pytest.raises(ScheduleSourceError, match=r"no meltano.yml in .*: not a Meltano project"):
        read_schedules(tmp_path)
    with pytest.raises(ScheduleSourceError) as info:
        read_schedules(tmp_path)
    assert info.value.details["reason"] == "missing"


def test_an_unreadable_meltano_yml_is_named(tmp_path: Path) -> None:
    (tmp_path / "meltano.yml").write_bytes(b"schedules: []\n# caf\xe9\n")
    with pytest.raises(ScheduleSourceError) as info:
        read_schedules(tmp_path)
    assert info.value.message.endswith(
        "meltano.yml: cannot read the file: not UTF-8 text (byte 20)"
    )
    assert "reason" not in info.value.details  # a file that is there: the check fails


def test_an_include_pattern_matching_a_directory_is_refused_as_meltano_does(
    tmp_path: Path,
) -> None:
    (tmp_path / "dir.meltano.yml").mkdir()
    write(tmp_path, "include_paths: ['./*.meltano.yml']\n")
    with pytest.raises(ScheduleSourceError, match=r"'dir\.meltano\.yml' is not a file: Meltano"):
        read_schedules(tmp_path)


def test_a_project_without_schedules_has_none(tmp_path: Path) -> None:
    write(tmp_path, "project_id: x\n")
    assert read_schedules(tmp_path) == ()
