"""What a user can look up without opening a file: every key of the schema with its
type, default, scope and meaning, and the shipped scenarios with their descriptions."""

from __future__ import annotations

import tomllib
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from simulation.scenario.schema import GRAPH_KINDS, Scenario, field_scope

LIST_SECTIONS = ("tiers", "products", "competitors")


def _type_name(annotation: Any) -> str:
    """A field's type as a user writes it in TOML."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return " | ".join(repr(value) for value in typing.get_args(annotation))
    if origin in (list, tuple):
        (inner,) = typing.get_args(annotation)[:1]
        return f"list of {_type_name(inner)}"
    if origin is not None and type(None) in typing.get_args(annotation):
        others = [a for a in typing.get_args(annotation) if a is not type(None)]
        return f"{_type_name(others[0])} (optional)"
    names = {float: "number", int: "whole number", str: "text", bool: "true/false"}
    if origin is dict:
        return "table"
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field: Any) -> Any:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "(required)"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "(table)"
    if isinstance(value, list):
        return f"{len(value)} entries" if value and isinstance(value[0], BaseModel) else value
    return value


def _rows(model: type[BaseModel], prefix: str, scope: str) -> list[dict[str, Any]]:
    rows = []
    for name, field in model.model_fields.items():
        key_scope = scope if field_scope(field) == "policy" else field_scope(field)
        rows.append(
            {
                "key": f"{prefix}{name}",
                "type": _type_name(field.annotation),
                "default": _default(field),
                "scope": key_scope,
                "meaning": field.description or "",
            }
        )
    return rows


def _graph_rows(scope: str) -> list[dict[str, Any]]:
    """The graph's keys other than `kind`, each saying which kinds take it."""
    kinds: dict[str, list[str]] = {}
    first: dict[str, dict[str, Any]] = {}
    for kind, model in GRAPH_KINDS.items():
        for row in _rows(model, "graph.", scope):
            if row["key"] != "graph.kind":
                kinds.setdefault(row["key"], []).append(kind)
                first.setdefault(row["key"], row)
    return [
        first[key] | {"meaning": f"{first[key]['meaning']} ({', '.join(kinds[key])})"}
        for key in first
    ]


def keys(section: str | None = None) -> list[dict[str, Any]]:
    """Every key a scenario may set (one section's with `section`): key, type, default,
    scope (world, run or policy) and meaning. Table lists show one entry's keys as
    `tiers.N.key`; a graph key says which kinds of graph take it."""
    rows: list[dict[str, Any]] = []
    for name, field in Scenario.model_fields.items():
        if section is not None and name != section:
            continue
        scope = field_scope(field)
        annotation = field.annotation
        if name == "graph":
            rows.append(
                {
                    "key": "graph.kind",
                    "type": " | ".join(repr(kind) for kind in GRAPH_KINDS),
                    "default": "watts_strogatz",
                    "scope": scope,
                    "meaning": "how the social graph is drawn (or read)",
                }
            )
            rows += _graph_rows(scope)
        elif name in LIST_SECTIONS or name == "interventions":
            (entry,) = typing.get_args(annotation)
            rows += _rows(entry, f"{name}.N.", scope)
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows += _rows(annotation, f"{name}.", scope)
        else:
            rows += [row for row in _rows(Scenario, "", scope) if row["key"] == name]
    return rows


def presets(root: Path) -> list[tuple[Path, str]]:
    """The scenario files under `root`, each with its one-line description."""
    found = []
    for path in sorted(root.rglob("*.toml")):
        try:
            description = tomllib.loads(path.read_text(encoding="utf-8")).get("description", "")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
            description = "(unreadable)"
        found.append((path, str(description)))
    return found
