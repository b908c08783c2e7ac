"""Names that become keys and file names: job names, run contexts.

A job name arrives from a command line, a ``meltano.yml`` or a ``meltano
run`` process; it becomes a lock key, a column value and part of file names
(``gruponos_job_<job>.prom``, a run workspace). :func:`check_name` refuses
what can never be a name; :func:`path_component` turns any accepted name
into one file-name component that cannot leave its directory.

>>> check_name("wms-incremental", what="job")
'wms-incremental'
>>> path_component("x/../../y")
'x_.._.._y-5fc13685'
"""

from __future__ import annotations

import hashlib
import unicodedata

from gruponos_ext.core.errors import GruponosError

__all__ = ["MAX_NAME_LENGTH", "InvalidNameError", "check_name", "path_component"]

MAX_NAME_LENGTH = 200
"""Longest accepted name: file names of 255 bytes still fit a prefix and a suffix."""

_COMPONENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
# Leaves room for a prefix, a hash and an extension within 255 bytes.
_MAX_COMPONENT = 120


class InvalidNameError(GruponosError):
    """A name (job, run context...) that can never be one: empty, too long, control characters."""

    code = "INVALID_NAME"
    exit_code = 2


def check_name(name: str, *, what: str = "name", option: str | None = None) -> str:
    """``name`` unchanged if it can be a ``what``; else :class:`InvalidNameError`.

    A name is non-empty, has no leading or trailing white space, at most
    :data:`MAX_NAME_LENGTH` characters and no control characters. Anything
    else (``/``, ``..``, spaces, non-ASCII letters) is allowed: Meltano
    allows it, and :func:`path_component` makes it safe for a path. The
    message names ``option`` (e.g. ``--job``) when given; it shows the value
    only when that is short and printable.
    """
    where = f"{option}: " if option else ""
    if not name:
        raise InvalidNameError(f"{where}the {what} name is empty; give the {what}'s name")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidNameError(
            f"{where}the {what} name is {len(name)} characters long; "
            f"at most {MAX_NAME_LENGTH} are allowed"
        )
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise InvalidNameError(f"{where}the {what} name {name!r} contains control characters")
    if name != name.strip():
        raise InvalidNameError(
            f"{where}the {what} name {name!r} starts or ends with white space; remove it"
        )
    return name


def path_component(name: str) -> str:
    """``name`` as one safe file-name component, distinct for distinct names.

    Characters outside ``[A-Za-z0-9._-]`` become ``_``; a name that had to be
    changed (or cut to fit) gets a short hash of the original, so two names
    never share a component; ``.`` and ``..`` can never result.
    """
    safe = "".join(c if c in _COMPONENT_CHARS else "_" for c in name)[:_MAX_COMPONENT]
    if safe == name and safe.strip(".") and not safe.startswith("-"):
        return safe
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{safe.lstrip('-') or '_'}-{digest}"
