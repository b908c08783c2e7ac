"""Where a command's report files go: ``--json-file``, ``--prom-file``, or ``metrics_dir``.

An explicit option wins; otherwise, with the ``metrics_dir`` setting, the
files go there under a fixed name (``gruponos_health.*``,
``gruponos_job_<job>.*`` with the job name made one safe file-name
component, so no job name can leave the directory). The targets are checked
before the command does its work: a path naming a FIFO, a device or a
directory stops it with exit 2 (see :func:`gruponos_ext.metrics.report_target`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from gruponos_ext.config import GruponosMeltanoSettings

__all__ = ["ReportFile", "report_files"]

_METRICS_DIR = "metrics_dir (GRUPONOS_INFRA_METRICS_DIR)"


class ReportFile(NamedTuple):
    """One report file: its path and the option or setting it came from."""

    path: Path
    source: str

    def write_json(self, data: Any) -> None:
        from gruponos_ext.metrics import write_json_atomic

        write_json_atomic(self.path, data, source=self.source)

    def write_prometheus(self, report: Any, **job: Any) -> None:
        from gruponos_ext.metrics import write_prometheus_textfile

        write_prometheus_textfile(self.path, report, source=self.source, **job)


def _one(
    given: str | None, option: str, settings: GruponosMeltanoSettings, name: str
) -> ReportFile | None:
    if given:
        found = ReportFile(Path(given), option)
    elif settings.metrics_dir is not None:
        found = ReportFile(Path(settings.metrics_dir) / name, _METRICS_DIR)
    else:
        return None
    from gruponos_ext.metrics import report_target

    report_target(found.path, source=found.source)  # refuse a FIFO or a device before any work
    return found


def report_files(
    settings: GruponosMeltanoSettings,
    *,
    json_file: str | None,
    prom_file: str | None,
    stem: str,
) -> tuple[ReportFile | None, ReportFile | None]:
    """The JSON and Prometheus files to write, checked; ``stem`` names them in ``metrics_dir``.

    >>> from gruponos_ext.config import GruponosMeltanoSettings
    >>> settings = GruponosMeltanoSettings(metrics_dir="/nonexistent/metrics")
    >>> json_report, prom = report_files(settings, json_file=None, prom_file=None, stem="x")
    >>> str(json_report.path), prom.source
    ('/nonexistent/metrics/x.json', 'metrics_dir (GRUPONOS_INFRA_METRICS_DIR)')
    """
    return (
        _one(json_file, "--json-file", settings, f"{stem}.json"),
        _one(prom_file, "--prom-file", settings, f"{stem}.prom"),
    )


def job_stem(job: str) -> str:
    """The file-name stem of a job's report files; never a path outside the directory.

    >>> job_stem("wms-incremental"), job_stem("x/../../y")
    ('gruponos_job_wms-incremental', 'gruponos_job_x_.._.._y-5fc13685')
    """
    from gruponos_ext.core.names import path_component

    return f"gruponos_job_{path_component(job)}"
