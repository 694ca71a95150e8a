"""YAML documents that remember where every value came from, and typed field readers.

``load_yaml`` parses a file into plain Python data plus a map from field path to line number,
so that validation errors can name file, line, field, value and what is allowed. The readers
(``req``/``opt_*``) are used by every schema in Ainur (song spec, presets, mix settings).

A *path* is a tuple of keys and indices, e.g. ``("sections", 2, "bars")``; it is shown as
``sections[2].bars``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import yaml

from ainur_cli.errors import AinurError, SpecError

PathT = tuple


def path_str(path: PathT) -> str:
    """``("sections", 2, "bars")`` → ``"sections[2].bars"``; a key that is not a plain name
    (spaces, dots, line breaks, ...) is shown quoted, ``style["my key"]``, so the message
    stays one line."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        elif _PLAIN_KEY.fullmatch(str(p)):
            out += ("." if out else "") + str(p)
        else:
            out += "[" + json.dumps(str(p)) + "]"
    return out


_PLAIN_KEY = re.compile(r"[^\W\d][\w-]*")


@dataclass
class Source:
    """Where a document came from: a file name and the line of every field path."""

    file: str | None = None
    lines: dict = field(default_factory=dict)
    error_cls: type = SpecError
    #: path → where a value came from when not the file (e.g. "--seed" for a CLI flag).
    origins: dict = field(default_factory=dict)

    def line_of(self, path: PathT) -> int | None:
        path = tuple(path)
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def error(
        self, path: PathT, message: str, value: Any = ..., allowed: str | None = None,
        cls: type | None = None,
    ) -> AinurError:
        """Build (not raise) an error located at ``path``."""
        origin = next((o for p, o in self.origins.items() if tuple(path)[: len(p)] == p), None)
        if origin is not None:
            return (cls or self.error_cls)(
                message, file=f"{self.file or 'spec'} (overridden by {origin})", line=None,
                field=path_str(path) or None, value=value, allowed=allowed)
        return (cls or self.error_cls)(
            message, file=self.file, line=self.line_of(path), field=path_str(path) or None,
            value=value, allowed=allowed,
        )

    def sub(self, prefix: PathT) -> "Source":
        """A view of the same file for a sub-document (lines keyed relative to ``prefix``)."""
        n = len(prefix)
        lines = {k[n:]: v for k, v in self.lines.items() if k[:n] == tuple(prefix)}
        origins = {k[n:]: v for k, v in self.origins.items() if k[:n] == tuple(prefix)}
        return Source(self.file, lines, self.error_cls, origins)


# -- loading --------------------------------------------------------------------------------

def _build(node: yaml.Node, path: PathT, lines: dict, src_name: str, err_cls: type) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise err_cls("mapping keys must be plain words", file=src_name,
                              line=key_node.start_mark.line + 1, field=path_str(path) or None)
            key = yaml.SafeLoader.construct_scalar(_LOADER, key_node)
            if key in out:
                raise err_cls("duplicate key", file=src_name, line=key_node.start_mark.line + 1,
                              field=path_str(path + (key,)), value=key,
                              allowed="each key once per mapping")
            out[key] = _build(value_node, path + (key,), lines, src_name, err_cls)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(v, path + (i,), lines, src_name, err_cls) for i, v in enumerate(node.value)]
    return _LOADER.construct_object(node, deep=True)


_LOADER = yaml.SafeLoader("")


def parse_yaml_text(text: str, file: str | None, error_cls: type = SpecError) -> tuple[Any, Source]:
    """Parse YAML text into ``(data, Source)``; syntax errors become ``error_cls`` with a line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        problem = (e.problem or e.context or "invalid YAML").strip()
        raise error_cls(f"YAML syntax error: {problem}", file=file, line=line,
                        allowed="valid YAML (check indentation, colons and quotes)") from None
    except yaml.YAMLError as e:
        raise error_cls(f"YAML error: {e}", file=file) from None
    lines: dict = {}
    if node is None:
        return None, Source(file, lines, error_cls)
    try:
        data = _build(node, (), lines, file, error_cls)
    except yaml.constructor.ConstructorError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        raise error_cls(f"YAML value error: {e.problem}", file=file, line=line) from None
    return data, Source(file, lines, error_cls)


def load_yaml(path: Path | str, error_cls: type = SpecError) -> tuple[Any, Source]:
    """Read and parse a UTF-8 YAML file; every failure is an ``error_cls`` naming the file."""
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error_cls("file not found", file=name) from None
    except IsADirectoryError:
        raise error_cls("is a folder, not a YAML file", file=name) from None
    except OSError as e:
        raise error_cls(f"cannot read file: {e.strerror}", file=name) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise error_cls("file is not UTF-8 text", file=name, line=line,
                        value=raw[e.start:e.start + 4], allowed="UTF-8 encoded YAML") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return parse_yaml_text(text, name, error_cls)


# -- typed readers --------------------------------------------------------------------------

MISSING = object()


def expect_mapping(value: Any, src: Source, path: PathT, what: str = "a mapping") -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise src.error(path, f"must be {what}", value, "key: value pairs")
    return value


def check_keys(raw: dict, allowed: Iterable[str], src: Source, path: PathT) -> None:
    """Reject unknown keys (typos must not be silently ignored)."""
    allowed = list(allowed)
    for k in raw:
        if k not in allowed:
            raise src.error(path + (k,), "unknown field", k, ", ".join(sorted(allowed)))


def get_number(
    raw: dict, key: str, src: Source, path: PathT, *, default: Any = MISSING,
    lo: float | None = None, hi: float | None = None, integer: bool = False,
    lo_open: bool = False,
) -> Any:
    """Read a number in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``); ``integer`` for ints."""
    p = path + (key,)
    if key not in raw or raw[key] is None:
        if default is MISSING:
            raise src.error(p, "is required", allowed=_range_text(lo, hi, integer, lo_open))
        return default
    v = raw[key]
    ok = isinstance(v, int) and not isinstance(v, bool) if integer else (
        isinstance(v, (int, float)) and not isinstance(v, bool))
    if not ok or (isinstance(v, float) and v != v) or v in (float("inf"), float("-inf")):
        raise src.error(p, "must be " + ("an integer" if integer else "a number"), v,
                        _range_text(lo, hi, integer, lo_open))
    if (lo is not None and (v <= lo if lo_open else v < lo)) or (hi is not None and v > hi):
        raise src.error(p, "is out of range", v, _range_text(lo, hi, integer, lo_open))
    return int(v) if integer else float(v)


def _range_text(lo, hi, integer, lo_open) -> str:
    kind = "an integer" if integer else "a number"

    def num(x) -> str:  # integers in full (a seed's 4294967295, not 4.29497e+09)
        return str(int(x)) if float(x).is_integer() else f"{x:g}"

    if lo is not None and hi is not None:
        return f"{kind} {'>' if lo_open else '>='} {num(lo)} and <= {num(hi)}"
    if lo is not None:
        return f"{kind} {'>' if lo_open else '>='} {num(lo)}"
    if hi is not None:
        return f"{kind} <= {num(hi)}"
    return kind


def get_str(
    raw: dict, key: str, src: Source, path: PathT, *, default: Any = MISSING,
    choices: Sequence[str] | None = None, max_len: int = 10_000,
) -> Any:
    """Read a non-empty string, optionally one of ``choices`` (case-insensitive)."""
    p = path + (key,)
    if key not in raw or raw[key] is None:
        if default is MISSING:
            raise src.error(p, "is required",
                            allowed=("one of " + ", ".join(choices)) if choices else "text")
        return default
    v = raw[key]
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise src.error(p, "must be text", v, ("one of " + ", ".join(choices)) if choices else "text")
    v = str(v).strip()
    if not v or len(v) > max_len:
        raise src.error(p, "must be non-empty text" if not v else "is too long", v[:40],
                        f"1..{max_len} characters")
    if choices is not None:
        low = {c.lower(): c for c in choices}
        if v.lower() not in low:
            raise src.error(p, "is not a known value", v, "one of " + ", ".join(choices))
        return low[v.lower()]
    return v


def get_bool(raw: dict, key: str, src: Source, path: PathT, *, default: Any = MISSING) -> Any:
    p = path + (key,)
    if key not in raw or raw[key] is None:
        if default is MISSING:
            raise src.error(p, "is required", allowed="true or false")
        return default
    v = raw[key]
    if not isinstance(v, bool):
        raise src.error(p, "must be true or false", v, "true or false")
    return v


def get_list(raw: dict, key: str, src: Source, path: PathT, *, default: Any = MISSING,
             min_len: int = 0, max_len: int = 10_000) -> Any:
    p = path + (key,)
    if key not in raw or raw[key] is None:
        if default is MISSING:
            raise src.error(p, "is required", allowed="a list")
        return default
    v = raw[key]
    if not isinstance(v, list):
        raise src.error(p, "must be a list", v, "a YAML list (- item)")
    if not min_len <= len(v) <= max_len:
        raise src.error(p, "has the wrong number of items", len(v), f"{min_len}..{max_len} items")
    return v


def get_str_list(raw: dict, key: str, src: Source, path: PathT, *, default: Any = MISSING,
                 choices: Sequence[str] | None = None, min_len: int = 0,
                 max_len: int = 10_000) -> Any:
    """Read a list of strings (:func:`get_list`), each item checked like :func:`get_str`
    (optionally one of ``choices``, case-insensitive) and named by its index in errors."""
    items = get_list(raw, key, src, path, default=default, min_len=min_len, max_len=max_len)
    if items is default:
        return default
    at = dict(enumerate(items))
    return [get_str(at, i, src, path + (key,), choices=choices) for i in range(len(items))]


def deep_merge(base: Any, over: Any) -> Any:
    """Mappings merge key by key (``over`` wins); anything else is replaced by ``over``."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = deep_merge(base[k], v) if k in base else v
        return out
    return over


Reader = Callable[..., Any]
