"""Meltano command lines, read as Meltano's own click parser reads them.

A command block learns which job it belongs to from the command line of the
``meltano run`` that started it (``/proc/<pid>/cmdline``). This module
splits such a command line into the Meltano program, the global options,
the subcommand, its options and its arguments, following click's rules as
Meltano 4 configures them -- without importing Meltano (a plugin's venv does
not have it): option names with ``_`` are normalised to ``-``, values come
as ``--opt value`` or ``--opt=value``, ``--`` ends the options, options may
follow arguments in a subcommand but not before the subcommand. The option
tables below are Meltano 4.4.1's; a test compares them with Meltano's click
definitions and parses many command lines with both.

>>> line = parse_meltano_argv(
...     ["/srv/.venv/bin/python", "/srv/.venv/bin/meltano", "--environment=prod", "run",
...      "--state_id_suffix", "x", "daily", "-f"])
>>> line.command, line.arguments, line.options["--force"], line.global_options["--environment"]
('run', ('daily',), True, 'prod')
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "GLOBAL_OPTIONS",
    "RUN_OPTIONS",
    "MeltanoCommandLine",
    "parse_meltano_argv",
    "split_program",
]

# Option name -> whether it takes a value. Meltano 4.4.1, `meltano --help` / `meltano run --help`.
GLOBAL_OPTIONS: Mapping[str, bool] = {
    "--log-level": True,
    "--log-format": True,
    "--log-config": True,
    "--environment": True,
    "--no-environment": False,
    "--cwd": True,
    "--env-file": True,
    "--version": False,
    "--help": False,
}
RUN_OPTIONS: Mapping[str, bool] = {
    "--dry-run": False,
    "--full-refresh": False,
    "--refresh-catalog": False,
    "--no-state-update": False,
    "--force": False,
    "-f": False,
    "--state-id-suffix": True,
    "--merge-state": False,
    "--state-strategy": True,
    "--run-id": True,
    "--timeout": True,
    "--install": False,
    "--no-install": False,
    "--only-install": False,
    "--database-uri": True,
    "--help": False,
}
_ALIASES = {"-f": "--force"}
_EAGER = ("--help", "--version")  # print and exit: nothing runs
_PYTHON_OPTIONS_WITH_VALUE = ("-X", "-W", "--check-hash-based-pycs")
_PYTHON_NAME = re.compile(r"(python|pypy)(\d+(\.\d+)*)?[dmu]?")


@dataclass(frozen=True)
class MeltanoCommandLine:
    """One Meltano invocation: ``program`` (how to start Meltano again) and what it was told."""

    program: tuple[str, ...]
    global_options: dict[str, str | bool] = field(default_factory=dict)
    command: str | None = None
    options: dict[str, str | bool] = field(default_factory=dict)
    arguments: tuple[str, ...] = ()

    @property
    def is_run(self) -> bool:
        return self.command == "run"

    @property
    def dry_run(self) -> bool:
        return bool(self.options.get("--dry-run"))


def _is_python(name: str) -> bool:
    return _PYTHON_NAME.fullmatch(os.path.basename(name)) is not None


def _is_meltano(name: str) -> bool:
    return os.path.basename(name) in ("meltano", "meltano.exe")


def split_program(argv: Sequence[str]) -> tuple[tuple[str, ...], list[str]] | None:
    """``(program, meltano arguments)`` when ``argv`` runs Meltano, else None.

    The program is ``meltano`` itself, ``python .../meltano`` (a script run
    by its interpreter, as ``/proc`` shows it) or ``python -m meltano``.

    >>> split_program(["/v/bin/python3", "/v/bin/meltano", "run", "job"])
    (('/v/bin/python3', '/v/bin/meltano'), ['run', 'job'])
    >>> split_program(["python", "-u", "-m", "meltano", "invoke", "x"])
    (('python', '-u', '-m', 'meltano'), ['invoke', 'x'])
    >>> split_program(["python", "-c", "print(1)"]) is None
    True
    """
    if not argv:
        return None
    if _is_meltano(argv[0]):
        return (argv[0],), list(argv[1:])
    if not _is_python(argv[0]):
        return None
    index = 1
    while index < len(argv):
        token = argv[index]
        if token in ("-m", "-mmeltano"):
            module_at = index + 1 if token == "-m" else index
            module = argv[module_at] if token == "-m" and module_at < len(argv) else "meltano"
            if module != "meltano" and token == "-m":
                return None
            return tuple(argv[: module_at + 1]), list(argv[module_at + 1 :])
        if token in _PYTHON_OPTIONS_WITH_VALUE:
            index += 2
            continue
        if token.startswith("-") and token not in ("-", "-c"):
            index += 1
            continue
        if token == "-c":
            return None
        return (tuple(argv[: index + 1]), list(argv[index + 1 :])) if _is_meltano(token) else None
    return None


def _normalise(token: str) -> str:
    """click's token normalisation as Meltano sets it: ``_`` -> ``-`` in option names."""
    return token.replace("_", "-")


class _Unparseable(ValueError):
    pass


def _parse_options(
    tokens: list[str], table: Mapping[str, bool], *, interspersed: bool
) -> tuple[dict[str, str | bool], list[str], list[str]]:
    """click's option parsing: (options, arguments, rest) -- ``rest`` only for a group."""
    options: dict[str, str | bool] = {}
    arguments: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token == "--":
            if not interspersed:  # a group: what follows is the subcommand and its tokens
                return options, arguments, tokens[index:]
            arguments += tokens[index:]
            return options, arguments, []
        if token.startswith("--") and len(token) > 2:
            name, has_value, value = token.partition("=")
            name = _normalise(name)
            if name not in table:
                raise _Unparseable(f"no such option {name}")
            if table[name]:
                if not has_value:
                    if index >= len(tokens):
                        raise _Unparseable(f"{name} needs a value")
                    value = tokens[index]
                    index += 1
                options[name] = value
            else:
                if has_value:
                    raise _Unparseable(f"{name} takes no value")
                options[name] = True
            continue
        if token.startswith("-") and len(token) > 1:
            for char in token[1:]:  # a cluster of short flags, e.g. -f
                short = _normalise(f"-{char}")
                if short not in table or table[short]:
                    raise _Unparseable(f"no such option {short}")
                options[_ALIASES.get(short, short)] = True
            continue
        if not interspersed:
            return options, arguments, [token, *tokens[index:]]
        arguments.append(token)
    return options, arguments, []


def parse_meltano_argv(argv: Sequence[str]) -> MeltanoCommandLine | None:
    """The Meltano invocation in ``argv``, or None when it is none (or one Meltano refuses).

    Options of subcommands other than ``run`` are not interpreted: their
    tokens are the ``arguments``.
    """
    split = split_program(argv)
    if split is None:
        return None
    program, tokens = split
    try:
        global_options, _, rest = _parse_options(tokens, GLOBAL_OPTIONS, interspersed=False)
        if any(global_options.get(name) for name in _EAGER):
            return MeltanoCommandLine(program, global_options)
        if not rest:
            return MeltanoCommandLine(program, global_options)
        command, sub_tokens = _normalise(rest[0]), rest[1:]
        if command != "run":
            return MeltanoCommandLine(program, global_options, command, {}, tuple(sub_tokens))
        options, arguments, _ = _parse_options(sub_tokens, RUN_OPTIONS, interspersed=True)
    except _Unparseable:
        return None
    if options.get("--help"):
        return MeltanoCommandLine(program, global_options, command, options)
    return MeltanoCommandLine(program, global_options, command, options, tuple(arguments))
