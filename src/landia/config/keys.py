"""How a configuration key is declared, checked and documented.

A section is a frozen dataclass whose fields are :func:`key` declarations: default, meaning,
range, choices and whether the key is required. :func:`check_section` turns one TOML table
into that dataclass, refusing unknown keys (with a "did you mean"), wrong types, values out
of range or not among the choices, and missing required keys; :func:`describe_section`
writes the section's rows of ``docs/configuration.md``. Every message names the file, the
key and what was expected.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import math
from dataclasses import field
from typing import Any, Union, get_args, get_origin, get_type_hints

from landia.errors import ConfigError

_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", list: "a list",
               bool: "true/false"}


def key(default: Any, doc: str, *, lo: float | None = None, hi: float | None = None,
        choices: tuple | None = None, lo_open: bool = False, required: bool = False) -> Any:
    """Declare a configuration key with its default, documentation and valid range.

    A ``required`` key must be given whenever its section is (its default only fills the
    dataclass).
    """
    meta = {"doc": doc, "lo": lo, "hi": hi, "choices": choices, "lo_open": lo_open,
            "required": required}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


def check_section(cls: type, name: str, values: dict[str, Any], source: str) -> Any:
    """The section ``cls`` from the table ``[name]`` of ``source``, every key checked."""
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for item, value in values.items():
        where = f"{source}: {name}.{item}"
        if item not in fields:
            close = difflib.get_close_matches(item, list(fields), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{where}: unknown key{hint}; [{name}] accepts "
                              f"{', '.join(sorted(fields))}")
        kwargs[item] = check_value(where, value, hints[item], fields[item].metadata)
    required = [k for k, f in fields.items() if f.metadata.get("required")]
    missing = [k for k in required if k not in values]
    if missing:
        raise ConfigError(f"{source}: {name}.{missing[0]}: required key missing; a [{name}] "
                          f"table needs {', '.join(required)}")
    return cls(**kwargs)


def check_value(where: str, value: Any, hint: Any, meta: Any) -> Any:
    """``value`` checked against the type ``hint`` and the declaration's ``meta``."""
    allowed = get_args(hint) if get_origin(hint) is Union else (hint,)
    lo, hi, choices = meta.get("lo"), meta.get("hi"), meta.get("choices")
    if isinstance(value, bool) or (bool in allowed and not (isinstance(value, str)
                                                            and str in allowed)):
        if not isinstance(value, bool) or bool not in allowed:
            raise ConfigError(f"{where}: expected {_describe(allowed)}, got {value!r}")
        return value
    if isinstance(value, str) and str in allowed:
        if choices and value not in choices:
            words = ", ".join(map(_toml, choices))
            expected = f"{words} or a number" if float in allowed else f"one of {words}"
            raise ConfigError(f"{where}: expected {expected}, got {value!r}")
        return value
    if isinstance(value, list) and list in allowed:
        if choices:
            for item in value:
                if item not in choices:
                    raise ConfigError(f"{where}: expected a list drawn from "
                                      f"{', '.join(map(repr, choices))}, got {item!r}")
            if len(set(value)) != len(value):
                raise ConfigError(f"{where}: repeated entries in {value!r}")
        return list(value)
    if isinstance(value, int) and not isinstance(value, bool) and int in allowed:
        number = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and float in allowed:
        number = float(value)
    else:
        raise ConfigError(f"{where}: expected {_describe(allowed)}, got "
                          f"{type(value).__name__} {value!r}")
    if isinstance(number, float) and not math.isfinite(number):
        raise ConfigError(f"{where}: expected a finite number, got {value!r}")
    open_lo = meta.get("lo_open")
    if lo is not None and (number < lo or (open_lo and number == lo)):
        raise ConfigError(f"{where}: expected a value {'>' if open_lo else '>='} {lo}, "
                          f"got {value!r}")
    if hi is not None and number > hi:
        raise ConfigError(f"{where}: expected a value <= {hi}, got {value!r}")
    return number


def _describe(allowed: tuple) -> str:
    return " or ".join(_TYPE_NAMES.get(a, getattr(a, "__name__", str(a))) for a in allowed)


def _toml(choice: Any) -> str:
    """A choice as a TOML file writes it: true/false for booleans, quoted strings."""
    return str(choice).lower() if isinstance(choice, bool) else repr(choice)


def describe_section(name: str, cls: type) -> list[str]:
    """The Markdown lines of section ``[name]``: its docstring and a table of its keys."""
    lines = [f"## [{name}]", "", inspect.cleandoc(cls.__doc__ or ""), "",
             "| key | default | allowed | meaning |", "|---|---|---|---|"]
    hints = get_type_hints(cls)
    defaults = cls()
    for f in dataclasses.fields(cls):
        meta = f.metadata
        allowed = []
        if meta.get("choices"):
            allowed.append(", ".join(f"`{str(c).lower() if isinstance(c, bool) else c}`"
                                     for c in meta["choices"]))
        if meta.get("lo") is not None:
            allowed.append(f"{'>' if meta.get('lo_open') else '>='} {meta['lo']}")
        if meta.get("hi") is not None:
            allowed.append(f"<= {meta['hi']}")
        kind = _describe(get_args(hints[f.name]) if get_origin(hints[f.name]) is Union
                         else (hints[f.name],))
        default = "*required*" if meta.get("required") else f"`{getattr(defaults, f.name)!r}`"
        lines.append(f"| `{f.name}` | {default} | {kind}; {'; '.join(allowed) or 'any'} "
                     f"| {meta['doc']} |")
    lines.append("")
    return lines
