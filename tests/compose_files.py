"""What Docker Compose does to ``.env`` and ``docker-compose.yml`` before it starts anything,
re-done here (there is no Docker engine on the test machines):

* ``.env``: compose's own dotenv dialect (compose-go ``dotenv/parser.go``): a double-quoted value
  ends at the first ``"`` not preceded by a backslash, its escapes ``\\\\ \\" \\n \\t`` are expanded,
  then it is interpolated; a single-quoted one is taken literally; an unquoted one loses an inline
  `` #`` comment and is interpolated.
* interpolation (the Compose Specification's "Interpolation"): ``$$`` is a literal ``$``;
  ``$NAME``, ``${NAME}``, ``${NAME:-default}``, ``${NAME-default}``, ``${NAME:?error}``,
  ``${NAME?error}``, ``${NAME:+alt}``, ``${NAME+alt}``, nested in defaults. It is applied once to
  every string of the parsed YAML (after YAML's own parsing and its ``<<`` merges).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
COMPOSE_SCHEMA = ROOT.parent / "shared" / "schemas" / "compose-spec.json"

_NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")


class InterpolationError(ValueError):
    pass


def _braced_end(text: str, start: int) -> int:
    """Index of the ``}`` closing the ``${`` whose ``{`` is at ``start``."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise InterpolationError(f"unclosed ${{ in {text!r}")


def interpolate(text: str, env: Mapping[str, str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "$":
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            end = _braced_end(text, i + 1)
            out.append(_braced(text[i + 2:end], env))
            i = end + 1
        elif (m := _NAME.match(text, i + 1)):
            out.append(env.get(m.group(0), ""))
            i = m.end()
        else:
            out.append("$")
            i += 1
    return "".join(out)


def _braced(expr: str, env: Mapping[str, str]) -> str:
    m = _NAME.match(expr)
    if not m:
        raise InterpolationError(f"invalid interpolation ${{{expr}}}")
    name, rest = m.group(0), expr[m.end():]
    value = env.get(name)
    if rest == "":
        return value or ""
    for op in (":-", "-", ":?", "?", ":+", "+"):
        if rest.startswith(op):
            arg = rest[len(op):]
            empty_counts = op.startswith(":")
            missing = value is None or (empty_counts and value == "")
            if op.endswith("-"):
                return interpolate(arg, env) if missing else value  # type: ignore[return-value]
            if op.endswith("?"):
                if missing:
                    raise InterpolationError(f"required variable {name} is missing a value: {interpolate(arg, env)}")
                return value  # type: ignore[return-value]
            return "" if missing else interpolate(arg, env)
    raise InterpolationError(f"invalid interpolation ${{{expr}}}")


def interpolate_tree(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [interpolate_tree(v, env) for v in node]
    if isinstance(node, dict):
        return {k: interpolate_tree(v, env) for k, v in node.items()}
    return node


def load_compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The compose file as YAML parses it (merges applied); interpolated with ``env`` when given."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    return raw if env is None else interpolate_tree(raw, env)


# --- .env -----------------------------------------------------------------------------------

_DQ_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r", "$": "$"}


def _unescape_double(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body) and body[i + 1] in _DQ_ESCAPES:
            out.append(_DQ_ESCAPES[body[i + 1]] if body[i + 1] != "$" else "\\$")
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def parse_env_file(text: str, lookup: Mapping[str, str] | None = None) -> dict[str, str]:
    values: dict[str, str] = {}
    src = text
    while True:
        src = src.lstrip()
        if not src:
            return values
        if src.startswith("#"):
            src = src.split("\n", 1)[1] if "\n" in src else ""
            continue
        key, sep, rest = src.partition("=")
        key = key.removeprefix("export ").strip()
        if not sep or not _NAME.fullmatch(key):
            raise ValueError(f"bad .env line near {src[:40]!r}")
        rest = rest.lstrip(" \t")
        scope = {**values, **(lookup or {})}
        if rest[:1] in ("'", '"'):
            quote = rest[0]
            i = 1
            while True:
                if i >= len(rest):
                    raise ValueError(f"unterminated quoted value for {key}")
                if rest[i] == quote and rest[i - 1] != "\\":
                    break
                i += 1
            body = rest[1:i]
            value = interpolate(_unescape_double(body), scope) if quote == '"' else body
            src = rest[i + 1:]
            src = src.split("\n", 1)[1] if "\n" in src else ""
        else:
            line, _, src = rest.partition("\n")
            value = interpolate(line.split(" #", 1)[0].rstrip(), scope)
        values[key] = value


def env_file_value(value: str) -> str:
    """``value`` written for ``.env`` the way ``.env.example`` tells: double quotes, ``\\`` as
    ``\\\\``, ``"`` as ``\\"``, ``$`` as ``$$``. A trailing backslash cannot be written."""
    if value.endswith("\\"):
        raise ValueError("a value ending with a backslash cannot be written in .env")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$") + '"'


def load_setup_module():
    """ops/compose/setup.py as a module (it is a script, not part of the package)."""
    import importlib.util
    import sys

    name = "gleaner_compose_setup"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "ops" / "compose" / "setup.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
