"""How a CLI command runs: its process set up, its outcome turned into an exit status.

* :class:`ExtensionGroup` makes every usage error one line ending with where
  to find help (click prints usage, a hint and the error on three).
* :func:`end_process` ends the process with the command's exit status.
* :class:`AppCommand` is a command that does the extension's work: logging
  is set up first; the command returns its exit status
  (0, 1, or a guarded run's own code); an error it raises ends in one line,
  ``error: <message>``, and the exit status the error class carries
  (``GruponosError.exit_code``: 1, or 2 for bad usage or settings), through
  ``ctx.exit``; anything unexpected in one line and exit 1. Tracebacks only
  with ``LOG_LEVEL=debug``.

This module is imported by the CLI module itself: it imports nothing but
click until a command runs.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, NoReturn

import click

__all__ = ["AppCommand", "ExtensionGroup", "OneLineUsageError", "end_process"]


class OneLineUsageError(click.UsageError):
    """A usage error shown as one line: what is wrong, then where the help is."""

    def show(self, file: IO[Any] | None = None) -> None:
        hint = f"; see '{self.ctx.command_path} --help'" if self.ctx is not None else ""
        click.echo(f"error: {self.format_message().rstrip('.')}{hint}", err=True)


@contextmanager
def _usage_errors_in_one_line() -> Iterator[None]:
    try:
        yield
    except OneLineUsageError:
        raise
    except click.UsageError as error:
        raise OneLineUsageError(error.format_message(), error.ctx) from None


class ExtensionGroup(click.Group):
    """The command group: usage errors of any command become one line."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        with _usage_errors_in_one_line():
            return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        with _usage_errors_in_one_line():
            return super().invoke(ctx)


def _stop(ctx: click.Context, message: str, exit_code: int) -> NoReturn:
    """End the command: the traceback at debug level, one line, the exit status."""
    from gruponos_ext.extension.logs import debug_enabled

    if debug_enabled():
        import traceback

        traceback.print_exc(file=sys.stderr)
    click.echo(f"error: {message}", err=True)
    ctx.exit(exit_code)


def _unexpected(error: Exception) -> str:
    """One line about an error no code expected, its text redacted (it comes from outside)."""
    from gruponos_ext.extension.commands.session import redactor_for_environment

    text = " ".join(redactor_for_environment().exception(error).split())
    return f"unexpected {text} (set LOG_LEVEL=debug for the traceback)"


class AppCommand(click.Command):
    """A command doing the extension's work; its callback returns the exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        from gruponos_ext.core.errors import GruponosError
        from gruponos_ext.extension.logs import configure_logging

        configure_logging()
        try:
            status = super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except GruponosError as error:
            _stop(ctx, error.message, error.exit_code)
        except KeyboardInterrupt:
            _stop(ctx, "interrupted", 130)
        except Exception as error:
            _stop(ctx, _unexpected(error), 1)
        if status:
            ctx.exit(int(status))
        return status


def end_process(code: int | str | None) -> NoReturn:
    """End the process as ``sys.exit(code)`` would, without the interpreter's teardown.

    Startup trick, for a measured figure (bench/bench_startup.py): after the
    command, the interpreter frees every module it loaded, one object at a
    time, ~6 ms of a ``health`` run that the operating system does at once.
    What a normal exit guarantees is kept, in its order: threads that are
    not daemons are waited for (if one runs, this is a normal exit), then
    the ``atexit`` handlers run (logging's flush among them), then stdout
    and stderr are flushed. Finalizers of objects still alive do not run;
    the commands close what they open (``with``).
    """
    status = _exit_status(code)
    main = threading.main_thread()
    if any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate()):
        # The interpreter waits for them. Its last collections would walk every
        # object of every module loaded (~25 ms); frozen objects are skipped.
        gc.freeze()
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


def _exit_status(code: int | str | None) -> int:
    """The status ``sys.exit(code)`` gives; a message is written to stderr, as it does."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    with contextlib.suppress(OSError, ValueError):
        print(code, file=sys.stderr)
    return 1
