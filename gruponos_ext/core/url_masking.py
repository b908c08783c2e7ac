"""URLs inside outside text, shown as ``scheme://host/…`` only.

A foreign exception (a third-party alert channel, a library) may quote a URL
that nobody configured here, so no :class:`~gruponos_ext.core.redaction.Redactor`
knows its token. Where such text names a destination, only the destination
is kept: :func:`~gruponos_ext.core.redaction.mask_url` applied to every URL
in it. Use it *after* the redactor (which knows the configured secrets).

>>> mask_urls_in("cannot POST https://hooks.example.com/T0/B0/XyZ (HTTP 500)")
'cannot POST https://hooks.example.com/… (HTTP 500)'
"""

from __future__ import annotations

import re

from gruponos_ext.core.redaction import mask_url

__all__ = ["mask_urls_in"]

_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>]+")


def mask_urls_in(text: str) -> str:
    """``text`` with every URL reduced to its scheme, host and port."""
    return _URL_IN_TEXT.sub(lambda match: mask_url(match.group(0)), text)
