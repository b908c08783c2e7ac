"""The ``gruponos_extension`` command line, and nothing else.

Each command is its options, its help, and one call of its handler in
:mod:`gruponos_ext.extension.commands`, imported inside the command so that
``describe`` and ``--help`` load nothing but click. A handler returns the
exit status; errors carry theirs (see :mod:`gruponos_ext.extension.runtime`).

Exit codes: 0 pass (warnings allowed), 1 a check failed / validation found
errors / the guarded run failed (guard exits with the run's own code), 2 bad
usage or bad settings.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from gruponos_ext.extension.params import (
    JOB,
    MAX_CHECK_TIMEOUT,
    MAX_HISTORY,
    MAX_RUN_TIMEOUT,
    Count,
    Seconds,
    format_option,
    report_file_options,
)
from gruponos_ext.extension.runtime import AppCommand, ExtensionGroup, end_process

if TYPE_CHECKING:  # the commands themselves are imported when invoked
    from typing_extensions import Unpack

    from gruponos_ext.extension.commands.health import HealthOptions
    from gruponos_ext.extension.commands.runs import GuardOptions

__all__ = ["cli", "main"]

EXIT_CODES_HELP = """
\b
Exit codes:
  0  passed (warnings allowed unless --strict)
  1  a check failed, validation found errors, or the guarded run failed
  2  bad usage or bad settings (the message names the setting)
"""


@click.group(
    name="gruponos_extension",
    cls=ExtensionGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES_HELP,
)
@click.version_option(package_name="gruponos-infra", prog_name="gruponos_extension")
def cli() -> None:
    """GrupoNOS infrastructure for Meltano pipelines.

    Validates the project's wiring, runs health checks, and guards tap/target
    runs (preflight, run lock, guaranteed dispose). Settings come from the
    GRUPONOS_INFRA_* variables that Meltano exports for this plugin.
    """


def app_command() -> Callable[[Callable[..., int]], click.Command]:
    """Decorator: a command of :func:`cli` doing the extension's work (an :class:`AppCommand`)."""
    return cli.command(cls=AppCommand, epilog=EXIT_CODES_HELP)


@cli.command(epilog=EXIT_CODES_HELP)
@format_option("text", "json", "yaml")
def describe(output_format: str) -> None:
    """Describe the extension's commands (Meltano EDK convention)."""
    from gruponos_ext.extension.describe import render

    click.echo(render(output_format))


@app_command()
@click.option("--force", is_flag=True, help="Recreate the state directory files.")
@click.option(
    "--write",
    is_flag=True,
    help="Apply the shown changes to meltano.yml (and included files), then validate.",
)
def initialize(force: bool, write: bool) -> int:
    """Prepare the state directory and show, per job, the run blocks to add.

    With --write the change is applied (comments and formatting kept; a
    second --write changes nothing) and the project is validated.
    """
    from gruponos_ext.extension.commands.runs import initialize

    return initialize(force=force, write=write)


@app_command()
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@click.option(
    "--ignore",
    "ignore",
    multiple=True,
    metavar="CODE",
    help="Silence the rule CODE (shown in [brackets] after each finding); repeatable. "
    "The setting validate_ignore does the same.",
)
@format_option("text", "json")
def validate(strict: bool, ignore: tuple[str, ...], output_format: str) -> int:
    """Check settings, container wiring and meltano.yml without touching any system.

    Opens no network connection and needs no secrets: safe as a CI step.
    """
    from gruponos_ext.extension.commands.validate import validate

    return validate(strict=strict, output_format=output_format, ignore=ignore)


@app_command()
@click.option(
    "--check",
    "checks",
    multiple=True,
    metavar="NAME",
    help="Run only this check (or component, e.g. 'oracle'); repeatable.",
)
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="TAG",
    help="Run only checks with this tag (e.g. 'critical'); repeatable.",
)
@format_option("text", "json", help="text for people, IETF health+json for machines.")
@click.option(
    "--timeout",
    type=Seconds(0.1, MAX_CHECK_TIMEOUT),
    default=None,
    metavar="SECONDS",
    help="Upper bound for every check, 0.1 to 3600 (default: health_check_timeout, "
    "and the Oracle/WMS checks' own connect/request timeouts).",
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@report_file_options("the health report")
def health(**options: Unpack[HealthOptions]) -> int:
    """Run health checks (in parallel, each bounded by its timeout)."""
    from gruponos_ext.extension.commands.health import health

    return health(**options)


@app_command()
@click.option(
    "--job",
    type=JOB,
    default=None,
    help="The job (lock) name this run belongs to; runs of one job never overlap. "
    "Default: the job of the `meltano run` this block belongs to.",
)
@click.option("--skip-health", is_flag=True, help="Do not run the critical health checks.")
def preflight(job: str | None, skip_health: bool) -> int:
    """Before a tap: validate settings, run critical checks, take the job's run lock.

    Use as the first block of a `meltano run` job; pair it with `dispose` as
    the last block. On failure it alerts and exits 1, so the tap never starts.
    """
    from gruponos_ext.extension.commands.runs import preflight

    return preflight(job=job, skip_health=skip_health)


@app_command()
@click.option(
    "--job",
    type=JOB,
    default=None,
    help="The job whose run to close (default: the job of the `meltano run` this block "
    "belongs to).",
)
@click.option(
    "--context",
    "context_id",
    default=None,
    help="The run context to close (default: MELTANO_PARENT_CONTEXT_UUID).",
)
def dispose(job: str | None, context_id: str | None) -> int:
    """After a target: release the run's lock, workspace and connections.

    Idempotent: exits 0 and says so when there is nothing to dispose.
    """
    from gruponos_ext.extension.commands.runs import dispose

    return dispose(job=job, context_id=context_id)


@app_command()
@click.argument("job", type=JOB)
@click.option(
    "--timeout",
    type=Seconds(0, MAX_RUN_TIMEOUT),
    default=None,
    metavar="SECONDS",
    help="Stop the run after this long, up to 30 days (default: run_timeout; 0 = none).",
)
@click.option(
    "--retries",
    type=Count(0, 1000),
    default=None,
    help="Retry a failed run this many times (default: run_retries).",
)
@report_file_options("the run outcome")
def guard(**options: Unpack[GuardOptions]) -> int:
    """Run `meltano run JOB` between preflight and a dispose that always runs.

    Dispose runs on success, failure, SIGTERM or SIGINT (forwarded to the run).
    Exits with the run's exit code.
    """
    from gruponos_ext.extension.commands.runs import guard

    return guard(**options)


@app_command()
@click.option("--job", type=JOB, default=None, help="Only this job's runs.")
@click.option("--limit", type=Count(1, MAX_HISTORY), default=20, show_default=True)
@format_option("text", "json")
def history(job: str | None, limit: int, output_format: str) -> int:
    """Show recent runs, locks and health results."""
    from gruponos_ext.extension.commands.history import history

    return history(job=job, limit=limit, output_format=output_format)


@app_command()
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the page here (default: gruponos_status.html in metrics_dir, else in the "
    "state directory). Written atomically; one self-contained file.",
)
def report(html_file: str | None) -> int:
    """Write a status page of the project's jobs and health: one offline HTML file.

    Per job: the last runs as a timeline, their durations, the schedule and
    whether it is overdue, the lock holder; per health check: the latest
    result and its recent history.
    """
    from gruponos_ext.extension.commands.report import report

    return report(html_file=html_file)


@app_command()
@format_option("text", "json")
def services(output_format: str) -> int:
    """List the services the container wires: name, lifetime, state."""
    from gruponos_ext.extension.commands.introspect import services

    return services(output_format=output_format)


@app_command()
@format_option("mermaid", "dot")
def graph(output_format: str) -> int:
    """Print the service dependency graph (Mermaid or Graphviz DOT)."""
    from gruponos_ext.extension.commands.introspect import graph

    return graph(output_format=output_format)


@app_command()
@format_option("text", "json")
def config(output_format: str) -> int:
    """Show the profile, the effective settings and where each came from (secrets masked)."""
    from gruponos_ext.extension.commands.introspect import config

    return config(output_format=output_format)


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    epilog=EXIT_CODES_HELP,
)
@click.argument("command_name")
@click.argument("command_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def invoke(ctx: click.Context, command_name: str, command_args: tuple[str, ...]) -> None:
    """Run another command by name (EDK convention), e.g. `invoke health --tag critical`."""
    target = cli.get_command(ctx, command_name)
    if target is None or target is invoke:
        raise click.UsageError(
            f"unknown command {command_name!r}; choose from: {', '.join(sorted(cli.commands))}",
            ctx,
        )
    with target.make_context(command_name, list(command_args), parent=ctx.parent) as sub:
        target.invoke(sub)


def main() -> None:
    """Console-script entry point."""
    code: int | str | None = 0
    try:
        cli(prog_name="gruponos_extension")
    except SystemExit as exc:
        code = exc.code
    except OSError as exc:
        # click handles a closed pipe itself; a result that cannot be written
        # (a full disk, a vanished terminal) is one line and exit 1.
        code = _output_failed(exc)
    if not _stdout_flushed():
        code = code or 1  # the result is lost: never report success
    end_process(code)


def _output_failed(exc: OSError) -> int:
    from gruponos_ext.extension.logs import debug_enabled

    if debug_enabled():
        import traceback

        traceback.print_exc(file=sys.stderr)
    reason = exc.strerror or type(exc).__name__
    click.echo(f"error: cannot write the output: {reason}", err=True)
    return 1


def _stdout_flushed() -> bool:
    """Flush stdout now; on failure point it at /dev/null.

    Otherwise Python fails again flushing at exit, prints "Exception ignored"
    and exits 120 instead of the documented code.
    """
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        return False
    return True
