"""The schedule cache gives what a new read gives, and only while its sources are unchanged.

Each test reads a real project through the cache, changes one thing the
schedules depend on (a file's text, what a glob matches, where a link
points, the reading code) and checks the next read sees it. Where the kept
entry must be used, the test first plants a marker in it: a result with the
marker can only have come from the cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from gruponos_ext.project import ScheduleSourceError, read_schedules
from gruponos_ext.project.schedule_cache import cached_schedules
from tests.support.cli import InProcessCli, health_json
from tests.support.secrets import assert_no_leak, leak_forms

PLANTED = "cache-must-not-keep-Wq73"

MAIN = f"""\
project_id: 0b7a6a6e-8a34-4f5d-9d0e-1c2f3a4b5c6d
default_environment: dev
include_paths:
- ./schedules/*.meltano.yml
environments:
- name: dev
plugins:
  extractors:
  - name: tap-x
    namespace: tap_x
    pip_url: tap-x
    config:
      password: {PLANTED}
  loaders:
  - name: target-y
    namespace: target_y
    pip_url: target-y
jobs:
- name: job-a
  tasks:
  - tap-x target-y
schedules:
- name: a-hourly
  interval: '@hourly'
  job: job-a
  env:
    TAP_X_PASSWORD: {PLANTED}
- name: legacy-elt
  interval: '@daily'
  extractor: tap-x
  loader: target-y
  transform: skip
"""

INCLUDED = """\
schedules:
- name: b-daily
  interval: 0 3 * * *
  job: job-a
"""


def _listed(schedules: Any) -> list[tuple[Any, ...]]:
    return [
        (s.name, s.run_job, s.interval, s.job, s.extractor, s.loader, s.transform, s.where)
        for s in schedules
    ]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "schedules").mkdir(parents=True)
    (root / "meltano.yml").write_text(MAIN)
    (root / "schedules" / "b.meltano.yml").write_text(INCLUDED)
    return root


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    state.mkdir()
    return state / "schedule-cache.json"


def _plant_marker(cache: Path) -> None:
    """Change the kept entry's first interval: only a read from the cache returns it."""
    kept = json.loads(cache.read_text())
    kept["schedules"][0]["interval"] = "@yearly"
    cache.write_text(json.dumps(kept))


def _first_interval(project: Path, cache: Path) -> str | None:
    return cached_schedules(project, cache)[0].interval


def test_a_kept_result_is_the_one_a_new_read_gives(project: Path, cache: Path) -> None:
    first = cached_schedules(project, cache)
    kept = cached_schedules(project, cache)

    assert cache.exists()
    assert _listed(first) == _listed(kept) == _listed(read_schedules(project))


def test_unchanged_sources_are_served_from_the_cache(project: Path, cache: Path) -> None:
    cached_schedules(project, cache)
    _plant_marker(cache)

    assert _first_interval(project, cache) == "@yearly"


def test_the_cache_serves_without_parsing_any_yaml(project: Path, cache: Path) -> None:
    program = textwrap.dedent(
        """
        import json, sys
        from pathlib import Path
        from gruponos_ext.project.schedule_cache import cached_schedules
        names = [s.name for s in cached_schedules(sys.argv[1], Path(sys.argv[2]))]
        print(json.dumps({"names": names, "yaml": "yaml" in sys.modules}))
        """
    )

    def run() -> Any:
        done = subprocess.run(
            [sys.executable, "-c", program, str(project), str(cache)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return json.loads(done.stdout)

    names = ["a-hourly", "legacy-elt", "b-daily"]
    assert run() == {"names": names, "yaml": True}  # the first read parses
    assert run() == {"names": names, "yaml": False}


def test_an_edit_of_meltano_yml_is_seen(project: Path, cache: Path) -> None:
    cached_schedules(project, cache)
    _plant_marker(cache)
    main = project / "meltano.yml"
    main.write_text(MAIN.replace("'@hourly'", "'@weekly'"))

    assert _first_interval(project, cache) == "@weekly"


def test_an_edit_that_keeps_size_and_modification_time_is_seen(project: Path, cache: Path) -> None:
    main = project / "meltano.yml"
    cached_schedules(project, cache)
    _plant_marker(cache)
    before = main.stat()
    main.write_text(MAIN.replace("'@hourly'", "'@weekly'").replace("a-hourly", "a-hourlx"))
    os.utime(main, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert main.stat().st_size == before.st_size

    assert cached_schedules(project, cache)[0].name == "a-hourlx"


def test_an_edit_of_an_included_file_is_seen(project: Path, cache: Path) -> None:
    cached_schedules(project, cache)
    (project / "schedules" / "b.meltano.yml").write_text(INCLUDED.replace("0 3", "0 4"))

    assert cached_schedules(project, cache)[-1].interval == "0 4 * * *"


def test_a_file_added_to_an_include_pattern_is_seen(project: Path, cache: Path) -> None:
    cached_schedules(project, cache)
    (project / "schedules" / "c.meltano.yml").write_text(INCLUDED.replace("b-daily", "c-daily"))

    assert [s.name for s in cached_schedules(project, cache)][-1] == "c-daily"


def test_an_included_file_removed_is_seen(project: Path, cache: Path) -> None:
    cached_schedules(project, cache)
    (project / "schedules" / "b.meltano.yml").unlink()

    assert [s.name for s in cached_schedules(project, cache)] == ["a-hourly", "legacy-elt"]


def test_a_link_pointed_elsewhere_is_seen(project: Path, cache: Path) -> None:
    first, second = project / "first.yml", project / "second.yml"
    first.write_text(INCLUDED)
    second.write_text(INCLUDED.replace("b-daily", "b-other"))  # same size, other name
    included = project / "schedules" / "b.meltano.yml"
    included.unlink()
    included.symlink_to(first)
    cached_schedules(project, cache)
    included.unlink()
    included.symlink_to(second)

    assert cached_schedules(project, cache)[-1].name == "b-other"


def test_a_change_of_the_reading_code_discards_the_cache(project: Path, cache: Path) -> None:
    cached_schedules(project, cache)
    _plant_marker(cache)
    kept = json.loads(cache.read_text())
    cache.write_text(json.dumps({**kept, "code": "another version"}))

    assert _first_interval(project, cache) == "@hourly"


def test_another_project_root_does_not_use_the_cache(
    project: Path, cache: Path, tmp_path: Path
) -> None:
    cached_schedules(project, cache)
    _plant_marker(cache)
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "meltano.yml").write_text(MAIN)

    assert _first_interval(copy, cache) == "@hourly"


def test_a_broken_project_raises_every_time_and_is_never_kept(project: Path, cache: Path) -> None:
    cached_schedules(project, cache)
    kept = cache.read_text()
    (project / "meltano.yml").write_text(MAIN + "schedules: {oops\n")

    for _ in range(2):
        with pytest.raises(ScheduleSourceError):
            cached_schedules(project, cache)
    assert cache.read_text() == kept


@pytest.mark.parametrize("content", ["", "{not json", '{"format": 1}', "[]", '"text"'])
def test_a_damaged_cache_costs_a_read_and_is_replaced(
    project: Path, cache: Path, content: str
) -> None:
    cache.write_text(content)

    assert _listed(cached_schedules(project, cache)) == _listed(read_schedules(project))
    assert json.loads(cache.read_text())["format"] == 1


def test_a_cache_that_cannot_be_written_costs_a_read_not_an_error(
    project: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")

    result = cached_schedules(project, blocker / "schedule-cache.json")

    assert _listed(result) == _listed(read_schedules(project))
    assert list(tmp_path.glob("**/.schedule-cache*")) == []


def test_no_secret_of_the_project_is_kept(project: Path, cache: Path) -> None:
    cached_schedules(project, cache)

    assert_no_leak(cache.read_text(), leak_forms(PLANTED), where="the schedule cache")


def test_without_a_cache_file_it_is_a_plain_read(project: Path) -> None:
    assert _listed(cached_schedules(project, None)) == _listed(read_schedules(project))


def test_health_keeps_the_schedules_in_the_state_directory_and_sees_an_edit(
    in_process_cli: InProcessCli,
) -> None:
    check = ("health", "--check", "schedules:freshness", "--format", "json")
    first = health_json(in_process_cli.run(*check).stdout)
    kept = in_process_cli.state_dir / "schedule-cache.json"
    main = in_process_cli.root / "meltano.yml"
    main.write_text(main.read_text().replace('interval: "@hourly"', 'interval: "@weekly"'))
    second = health_json(in_process_cli.run(*check).stdout)

    assert kept.is_file()
    assert "@hourly" in json.dumps(first) and "@weekly" not in json.dumps(first)
    assert "@weekly" in json.dumps(second) and "@hourly" not in json.dumps(second)
