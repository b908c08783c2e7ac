"""The ``gruponos_extension`` command line: a thin click layer over ``app``.

Every command imports what it needs inside its body, so ``describe`` (and
``--help``) load nothing but click. Exit codes: 0 pass (warnings allowed),
1 a check failed / validation found errors / the guarded run failed,
2 bad usage or bad settings.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from gruponos_ext.extension.output import ExitCode

EXIT_CODES_HELP = """
\b
Exit codes:
  0  passed (warnings allowed unless --strict)
  1  a check failed, validation found errors, or the guarded run failed
  2  bad usage or bad settings (the message names the setting)
"""


def _run(command: Callable[..., int], **kwargs: Any) -> None:
    """Run an app command; turn expected errors into one line and an exit code."""
    from gruponos_ext.extension.app import run_safely

    sys.exit(run_safely(command, **kwargs))


def _format_option(*choices: str, help: str | None = None) -> Callable[[Any], Any]:
    """``--format``, the first choice being the default."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help,
    )


def _report_file_options(what: str) -> Callable[[Any], Any]:
    """``--json-file`` and ``--prom-file``: where to also write ``what`` (default: metrics_dir)."""

    def decorate(command: Any) -> Any:
        command = click.option(
            "--prom-file",
            type=click.Path(dir_okay=False),
            default=None,
            help=f"Also write {what} as a Prometheus textfile-collector file (atomically).",
        )(command)
        return click.option(
            "--json-file",
            type=click.Path(dir_okay=False),
            default=None,
            help=f"Also write {what} as JSON to this file (atomically).",
        )(command)

    return decorate


def _app() -> Any:
    from gruponos_ext.extension import app

    return app


@click.group(
    name="gruponos_extension",
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


@cli.command(epilog=EXIT_CODES_HELP)
@_format_option("text", "json", "yaml")
def describe(output_format: str) -> None:
    """Describe the extension's commands (Meltano EDK convention)."""
    from gruponos_ext.extension.describe import render

    click.echo(render(output_format))


@cli.command(epilog=EXIT_CODES_HELP)
@click.option("--force", is_flag=True, help="Recreate the state directory files.")
@click.option(
    "--write",
    is_flag=True,
    help="Apply the shown changes to meltano.yml (and included files), then validate.",
)
def initialize(force: bool, write: bool) -> None:
    """Prepare the state directory and show, per job, the run blocks to add.

    With --write the change is applied (comments and formatting kept; a
    second --write changes nothing) and the project is validated.
    """
    _run(_app().initialize, force=force, write=write)


@cli.command(epilog=EXIT_CODES_HELP)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@_format_option("text", "json")
def validate(strict: bool, output_format: str) -> None:
    """Check settings, container wiring and meltano.yml without touching any system.

    Opens no network connection and needs no secrets: safe as a CI step.
    """
    _run(_app().validate, strict=strict, output_format=output_format)


@cli.command(epilog=EXIT_CODES_HELP)
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
@_format_option("text", "json", help="text for people, IETF health+json for machines.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Upper bound in seconds for every check (default: health_check_timeout, "
    "and the Oracle/WMS checks' own connect/request timeouts).",
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@_report_file_options("the health report")
def health(
    checks: tuple[str, ...],
    tags: tuple[str, ...],
    output_format: str,
    timeout: float | None,
    strict: bool,
    json_file: str | None,
    prom_file: str | None,
) -> None:
    """Run health checks (in parallel, each bounded by its timeout)."""
    _run(
        _app().health,
        checks=checks,
        tags=tags,
        output_format=output_format,
        timeout=timeout,
        strict=strict,
        json_file=json_file,
        prom_file=prom_file,
    )


@cli.command(epilog=EXIT_CODES_HELP)
@click.option(
    "--job",
    default=None,
    help="The job (lock) name this run belongs to; runs of one job never overlap. "
    "Default: the job of the `meltano run` this block belongs to.",
)
@click.option("--skip-health", is_flag=True, help="Do not run the critical health checks.")
def preflight(job: str | None, skip_health: bool) -> None:
    """Before a tap: validate settings, run critical checks, take the job's run lock.

    Use as the first block of a `meltano run` job; pair it with `dispose` as
    the last block. On failure it alerts and exits 1, so the tap never starts.
    """
    _run(_app().preflight, job=job, skip_health=skip_health)


@cli.command(epilog=EXIT_CODES_HELP)
@click.option(
    "--job",
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
def dispose(job: str | None, context_id: str | None) -> None:
    """After a target: release the run's lock, workspace and connections.

    Idempotent: exits 0 and says so when there is nothing to dispose.
    """
    _run(_app().dispose, job=job, context_id=context_id)


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("job")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=None,
    help="Stop the run after this many seconds (default: run_timeout; 0 = none).",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=None,
    help="Retry a failed run this many times (default: run_retries).",
)
@_report_file_options("the run outcome")
def guard(
    job: str,
    timeout: float | None,
    retries: int | None,
    json_file: str | None,
    prom_file: str | None,
) -> None:
    """Run `meltano run JOB` between preflight and a dispose that always runs.

    Dispose runs on success, failure, SIGTERM or SIGINT (forwarded to the run).
    Exits with the run's exit code.
    """
    _run(
        _app().guard,
        job=job,
        timeout=timeout,
        retries=retries,
        json_file=json_file,
        prom_file=prom_file,
    )


@cli.command(epilog=EXIT_CODES_HELP)
@click.option("--job", default=None, help="Only this job's runs.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@_format_option("text", "json")
def history(job: str | None, limit: int, output_format: str) -> None:
    """Show recent runs, locks and health results."""
    _run(_app().history, job=job, limit=limit, output_format=output_format)


@cli.command(epilog=EXIT_CODES_HELP)
@_format_option("text", "json")
def services(output_format: str) -> None:
    """List the services the container wires: name, lifetime, state."""
    _run(_app().services, output_format=output_format)


@cli.command(epilog=EXIT_CODES_HELP)
@_format_option("mermaid", "dot")
def graph(output_format: str) -> None:
    """Print the service dependency graph (Mermaid or Graphviz DOT)."""
    _run(_app().graph, output_format=output_format)


@cli.command(epilog=EXIT_CODES_HELP)
@_format_option("text", "json")
def config(output_format: str) -> None:
    """Show the effective settings and where each came from (secrets masked)."""
    _run(_app().config, output_format=output_format)


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    epilog=EXIT_CODES_HELP,
)
@click.argument("command_name")
@click.argument("command_args", nargs=-1, type=click.UNPROCESSED)
def invoke(command_name: str, command_args: tuple[str, ...]) -> None:
    """Run another command by name (EDK convention), e.g. `invoke health --tag critical`."""
    command = cli.get_command(click.get_current_context(), command_name)
    if command is None:
        raise click.UsageError(
            f"unknown command {command_name!r}; choose from: {', '.join(sorted(cli.commands))}"
        )
    command.main(list(command_args), prog_name=f"gruponos_extension {command_name}")


def main() -> None:
    """Console-script entry point."""
    code: int | str | None = ExitCode.OK
    try:
        cli(prog_name="gruponos_extension")
    except SystemExit as exc:
        code = exc.code
    except OSError as exc:
        # click handles a closed pipe itself; a result that cannot be written
        # (a full disk, a vanished terminal) is one line and exit 1.
        code = _output_failed(exc)
    if not _stdout_flushed():
        code = code or ExitCode.FAILED  # the result is lost: never report success
    sys.exit(code)


def _output_failed(exc: OSError) -> int:
    from gruponos_ext.extension.logs import debug_enabled

    if debug_enabled():
        import traceback

        traceback.print_exc(file=sys.stderr)
    reason = exc.strerror or type(exc).__name__
    click.echo(f"error: cannot write the output: {reason}", err=True)
    return ExitCode.FAILED


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
