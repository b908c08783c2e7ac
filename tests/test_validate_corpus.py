"""Real public projects (tests/data/corpus, origins in ORIGIN.md): no false errors.

Meltano 4.4.1 itself says which of these it loads and which of their jobs its
block parser accepts; validate must report no error on what Meltano accepts,
and each error it reports must be one Meltano confirms.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gruponos_ext.project import read_project, validate_project
from gruponos_ext.project.codes import RULES
from tests.support.meltano import REPO_ROOT
from tests.support.meltano_oracle import ask_meltano, seed_system_database

pytestmark = pytest.mark.e2e

CORPUS = REPO_ROOT / "tests" / "data" / "corpus"
PROJECTS = sorted(p for p in CORPUS.iterdir() if p.is_dir())

BLOCK_CODES = {code for code in RULES if code.startswith(("BLOCK_", "JOB_NAME_AMBIGUOUS"))}


def test_the_corpus_is_the_one_documented() -> None:
    documented = (CORPUS / "ORIGIN.md").read_text(encoding="utf-8")

    assert len(PROJECTS) >= 30
    for project in PROJECTS:
        prefix = project.name.split("__")[0].split("-")[0]
        assert prefix in documented, project.name


def test_validate_refuses_to_load_exactly_what_meltano_refuses() -> None:
    theirs = ask_meltano("load", [str(p) for p in PROJECTS])
    ours = [
        [f.render() for f in validate_project(p).errors if RULES[f.code].stage == "load"]
        for p in PROJECTS
    ]

    assert [(p.name, bool(o)) for p, o in zip(PROJECTS, ours, strict=True)] == [
        (p.name, t is not None) for p, t in zip(PROJECTS, theirs, strict=True)
    ]
    assert all(t is None for t in theirs)  # every corpus project loads in Meltano


def test_every_job_meltano_accepts_validate_accepts_and_the_rest_it_refuses(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cases: list[tuple[str, str]] = []
    refused_by_us: list[bool] = []
    for project in PROJECTS:
        root = shutil.copytree(project, tmp_path / project.name)
        seed_system_database(root, tmp_path_factory.getbasetemp() / "oracle-template")
        model, report = read_project(root)
        assert model is not None
        for index, job in enumerate(model.jobs):
            cases.append((str(root), job.name))
            prefix = job.where.key_path
            refused_by_us.append(
                any(
                    f.code in BLOCK_CODES
                    and f.file == job.where.file
                    and (f.key_path == prefix or f.key_path.startswith(prefix + "."))
                    for f in report.errors
                )
            )
            assert index < 200

    theirs = ask_meltano("blocks-offline-parents", cases)

    verdicts = [
        (Path(root).name, job, ours, error)
        for (root, job), ours, error in zip(cases, refused_by_us, theirs, strict=True)
        if ours != (error is not None)
    ]
    assert verdicts == []
    assert len(cases) > 40
    assert 0 < sum(refused_by_us) < 5  # the corpus holds a few real mistakes, found


def test_corpus_errors_are_only_the_ones_meltano_confirms() -> None:
    errors = {
        project.name: sorted({f.code for f in validate_project(project).errors})
        for project in PROJECTS
    }

    assert {name: codes for name, codes in errors.items() if codes} == {
        # ending-meltano.yml of this example removes tap-gitlab but keeps its job.
        "meltano-objects__ending": ["BLOCK_UNKNOWN_PLUGIN"],
        # Meltano's multi-file fixture names the mapper plugin, not a mapping, in its job.
        "multifile_project": ["BLOCK_MAPPER_NOT_MAPPING"],
    }
