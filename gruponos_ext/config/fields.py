"""How a setting is declared, named and described.

A setting is a pydantic field built with :func:`setting`: its default, its
label and description for Meltano, and what its values look like (unit,
format, bounds). :class:`FieldShape` reads that back from the field once, for
the two places that speak about values in words: error messages ("must be an
integer from 1 to 65535") and the Meltano plugin definition ("Value: ...").

>>> env_var_for("oracle_port")
'GRUPONOS_INFRA_ORACLE_PORT'
"""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any, Literal, NamedTuple, Union, get_args, get_origin

from pydantic import Field, SecretStr
from pydantic.fields import FieldInfo

__all__ = ["ENV_PREFIX", "MASK", "FieldShape", "env_var_for", "setting", "shape_of"]

ENV_PREFIX = "GRUPONOS_INFRA_"
"""Prefix of the variables Meltano exports for this plugin's settings."""

MASK = "********"
"""How a secret that is set is shown by ``GruponosMeltanoSettings.masked_dump``."""


def env_var_for(setting: str) -> str:
    """The environment variable Meltano exports for ``setting``."""
    return ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", setting).upper()


def setting(
    default: Any,
    label: str,
    description: str,
    *,
    unit: str | None = None,
    fmt: str | None = None,
    expect: str | None = None,
    dynamic_default: bool = False,
    **constraints: Any,
) -> Any:
    """A pydantic ``Field`` carrying what the Meltano definition and the messages need.

    ``fmt`` names the kind of text (``url``, ``email``, ``absolute_path``...),
    ``expect`` replaces the generated "must be ..." wording, and
    ``dynamic_default`` marks a default derived from Meltano's own variables
    (so the definition declares no ``value:``).
    """
    extra: dict[str, Any] = {}
    if unit:
        extra["unit"] = unit
    if fmt:
        extra["format"] = fmt
    if expect:
        extra["expect"] = expect
    if dynamic_default:
        extra["dynamic_default"] = True
    if isinstance(default, list):
        return Field(
            default_factory=list,
            title=label,
            description=description,
            json_schema_extra=extra,
            **constraints,
        )
    return Field(
        default, title=label, description=description, json_schema_extra=extra, **constraints
    )


_VALUE_TYPES: dict[Any, str] = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    Path: "path",
    SecretStr: "secret",
}
_LIST_ITEMS = {"email": "e-mail addresses", "rule_code": "rule codes", "name": "names"}
_TEXT_FORMATS = {
    "postgres_uri": "a postgresql:// or postgresql+psycopg:// URI with a host or socket",
    "sql_identifier": "a lower-case SQL name: letters, digits and _, not starting with a digit",
    "url": "an http(s) URL with a host",
    "email": "an e-mail address",
    "url_path": "a URL path starting with '/'",
    "absolute_path": "an absolute path",
}


class FieldShape(NamedTuple):
    """What one setting's values look like, read from its field.

    (A named tuple, not a dataclass: it is built at every start, and costs a third.)
    """

    name: str
    env_var: str
    value_type: str  # string, integer, number, boolean, choice, path, list, secret
    choices: tuple[str, ...]
    fmt: str | None
    unit: str | None
    ge: float | None
    gt: float | None
    le: float | None
    expect: str | None
    default: Any
    dynamic_default: bool
    label: str
    description: str

    @property
    def secret(self) -> bool:
        """The value is a secret: never shown, not even in an error."""
        return self.value_type == "secret"

    def expectation(self) -> str:
        """What a valid value looks like, as in "must be <expectation>"."""
        if self.expect:
            return self.expect
        if self.value_type in ("integer", "number"):
            return self._numeric_expectation()
        if self.value_type == "boolean":
            return "true or false"
        if self.value_type == "choice":
            return "one of " + ", ".join(self.choices)
        if self.value_type == "list":
            items = _LIST_ITEMS.get(self.fmt or "", "values")
            return f"{items}, comma-separated or as a JSON array"
        if self.fmt in _TEXT_FORMATS:
            return _TEXT_FORMATS[self.fmt]
        if self.value_type == "path":
            return "a path; a relative one is resolved against the project root"
        return "text"

    def _numeric_expectation(self) -> str:
        noun = "an integer" if self.value_type == "integer" else "a number"
        if self.unit:
            noun += f" of {self.unit}"
        if self.ge is not None and self.le is not None:
            return f"{noun} from {_number(self.ge)} to {_number(self.le)}"
        if self.ge is not None:
            return f"{noun} >= {_number(self.ge)}"
        if self.gt is not None:
            return f"{noun} > {_number(self.gt)}"
        return noun

    @property
    def meltano_default(self) -> str | None:
        """The default as Meltano exports it (a string), None when there is no static one."""
        default = self.default
        if self.dynamic_default or default is None or default == []:
            return None
        if isinstance(default, bool):
            return "true" if default else "false"
        if isinstance(default, (int, float)):
            return _number(default)
        return str(default)


def shape_of(name: str, info: FieldInfo) -> FieldShape:
    """The :class:`FieldShape` of the model field ``name``."""
    annotation: Any = info.annotation
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    choices: tuple[str, ...] = ()
    if get_origin(annotation) is Literal:
        value_type, choices = "choice", tuple(str(a) for a in get_args(annotation))
    elif get_origin(annotation) is list:
        value_type = "list"
    else:
        value_type = _VALUE_TYPES[annotation]
    bounds: dict[str, float] = {}
    for meta in info.metadata:
        for key in ("ge", "gt", "le"):
            if getattr(meta, key, None) is not None:
                bounds[key] = getattr(meta, key)
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return FieldShape(
        name=name,
        env_var=env_var_for(name),
        value_type=value_type,
        choices=choices,
        fmt=str(extra["format"]) if "format" in extra else None,
        unit=str(extra["unit"]) if "unit" in extra else None,
        ge=bounds.get("ge"),
        gt=bounds.get("gt"),
        le=bounds.get("le"),
        expect=str(extra["expect"]) if "expect" in extra else None,
        default=[] if info.default_factory is not None else info.default,
        dynamic_default=bool(extra.get("dynamic_default")),
        label=info.title or name,
        description=info.description or "",
    )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)
