"""Reading scenario files: TOML, `extends` inheritance, `--set` overrides, validation.

Every failure is a `ScenarioError` naming the file (or `--set`) and the key, so the
command line can print one clear line instead of a traceback.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from simulation.scenario.schema import GRAPH_KINDS, RuleError, Scenario, scope_of

OVERRIDE_SOURCE = "--set"
MAX_EXTENDS = 32  # files in one `extends` chain


class ScenarioError(ValueError):
    """A bad scenario: names where the problem is (file or --set) and which key."""

    def __init__(self, source: str, key: str | None, message: str) -> None:
        self.source, self.key, self.message = source, key, message
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {message}")


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load, inherit, override and validate a scenario file.

    `overrides` maps dotted keys (`"population.size"`) to values; they are
    type-checked exactly like values read from the file.
    """
    path = Path(path)
    raw, origins = _read_chain(path.resolve(), chain=())
    if "name" not in raw:
        raw["name"] = folder_name(path.stem)
        origins["name"] = str(path)
    for key, value in (overrides or {}).items():
        _apply_override(raw, origins, key, value)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as err:
        raise _explain(err, origins, str(path)) from None
    if scenario.graph.kind == "edgelist" and not Path(scenario.graph.path).is_file():
        source = origins.get("graph.path", str(path))
        raise ScenarioError(source, "graph.path", f"no such file: {scenario.graph.path}")
    check_interventions(scenario, origins.get("interventions", str(path)))
    return scenario


def folder_name(stem: str) -> str:
    """A scenario's default name from its file name, made a safe folder name (spaces
    and other signs become '_')."""
    name = re.sub(r"[^\w.+-]", "_", stem).lstrip("_.+-")[:80]
    return name or "scenario"


def intervention_changes(changes: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """An intervention's `set` table as dotted keys (nested tables are flattened)."""
    flat = {}
    for key, value in changes.items():
        if isinstance(value, dict):
            flat |= intervention_changes(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def check_interventions(scenario: Scenario, source: str) -> None:
    """Every intervention changes policy keys only, to values the schema accepts."""
    for index, intervention in enumerate(scenario.interventions):
        where = f"{source}: interventions[{index}]"
        for key in intervention_changes(intervention.set):
            scope = scope_of(key)
            if scope != "policy":
                raise ScenarioError(
                    where, key, f"a {scope} key: the world and the run cannot change mid-run"
                )
        changed = with_overrides(scenario, intervention_changes(intervention.set), where)
        if len(changed.competitors) != len(scenario.competitors):
            raise ScenarioError(
                where, "competitors", "may change competitors' offers, not how many there are"
            )


def with_overrides(
    scenario: Scenario, overrides: Mapping[str, Any], source: str = OVERRIDE_SOURCE
) -> Scenario:
    """A resolved scenario with some dotted keys changed, validated like a file."""
    raw = scenario.model_dump(mode="json")
    origins: dict[str, str] = {}
    for key, value in overrides.items():
        _apply_override(raw, origins, key, value, source)
    try:
        return Scenario.model_validate(raw)
    except ValidationError as err:
        raise _explain(err, origins, source) from None


def parse_override(text: str) -> tuple[str, Any]:
    """Parse a `section.key=value` string; the value is read as TOML, else as text."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError(OVERRIDE_SOURCE, text, "expected section.key=value")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return key, parsed


def scenario_hash(scenario: Scenario) -> str:
    """Hash of what is simulated: everything but the name, description, seed and
    population.scale (how figures are shown, not what is simulated)."""
    content = scenario.model_dump(mode="json", exclude={"name", "description"})
    content["run"].pop("seed")
    content["population"].pop("scale")
    blob = json.dumps(content, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def scenario_toml(scenario: Scenario) -> str:
    """The resolved scenario as TOML text, loadable on its own (no `extends`)."""
    return tomli_w.dumps(scenario.model_dump(mode="json", exclude_none=True))


def _read_chain(path: Path, chain: tuple[Path, ...]) -> tuple[dict, dict[str, str]]:
    """Read a file and the files it extends; return the merged table and key origins."""
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise ScenarioError(str(chain[-1]), "extends", f"cycle: {cycle}")
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(
            str(chain[0]), "extends", f"a chain of more than {MAX_EXTENDS} files; is it a loop?"
        )
    if chain and path.suffix != ".toml":
        raise ScenarioError(str(chain[-1]), "extends", f"not a scenario (.toml) file: {path}")
    if not path.is_file():
        source = str(chain[-1]) if chain else str(path)
        key = "extends" if chain else None
        raise ScenarioError(source, key, f"no such scenario file: {path}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(str(path), None, f"TOML syntax error: {err}") from None
    except UnicodeDecodeError:
        raise ScenarioError(str(path), None, "not a UTF-8 text file") from None
    _absolutise_paths(raw, path.parent)
    origins = {key: str(path) for key in _leaf_keys(raw)}
    parent = raw.pop("extends", None)
    if chain:
        raw.pop("name", None)
        origins.pop("name", None)
    if parent is None:
        return raw, origins
    if not isinstance(parent, str):
        raise ScenarioError(str(path), "extends", "must be a path string")
    parent_path = Path(parent)
    if not parent_path.is_absolute():
        parent_path = path.parent / parent_path
    base, base_origins = _read_chain(parent_path.resolve(), (*chain, path))
    return _merge(base, raw), base_origins | origins


def _absolutise_paths(raw: dict, folder: Path) -> None:
    """Make a relative `graph.path` relative to the file that names it."""
    graph = raw.get("graph")
    if isinstance(graph, dict) and isinstance(graph.get("path"), str):
        target = Path(graph["path"])
        if not target.is_absolute():
            graph["path"] = str((folder / target).resolve())


def _merge(base: dict, top: dict) -> dict:
    """Deep-merge `top` over `base`; a graph whose kind changes keeps only keys it accepts."""
    merged = dict(base)
    for key, value in top.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            if key == "graph":
                old = _keep_graph_keys(old, value.get("kind", old.get("kind")))
            merged[key] = _merge(old, value)
        else:
            merged[key] = value
    return merged


def _keep_graph_keys(graph: dict, kind: Any) -> dict:
    """The keys of a graph table that a graph of `kind` accepts."""
    model = GRAPH_KINDS.get(kind)
    if model is None:
        return graph
    return {k: v for k, v in graph.items() if k in model.model_fields}


def _leaf_keys(table: dict, prefix: str = "") -> list[str]:
    keys = []
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            keys.extend(_leaf_keys(value, f"{dotted}."))
        else:
            keys.append(dotted)
    return keys


def _apply_override(
    raw: dict, origins: dict[str, str], key: str, value: Any, source: str = OVERRIDE_SOURCE
) -> None:
    """Set one dotted key in the raw table, as `--set` does: `section.key`, or an entry
    of a table list by its index (`tiers.1.direct_rate`); a table given as the value is
    merged into the table already there, key by key."""
    parts = key.split(".")
    if not all(parts):
        raise ScenarioError(source, key, "expected section.key=value")
    if isinstance(raw.get(parts[0]), list) or (len(parts) > 1 and parts[1].isdigit()):
        raw.setdefault(parts[0], _default_list(parts[0]))
    table: Any = raw
    for part in parts[:-1]:
        if isinstance(table, list):
            child = table[_index(table, part, key, source)]
        else:
            child = table.setdefault(part, {})
        if not isinstance(child, dict | list):
            raise ScenarioError(source, key, f"'{part}' is not a table")
        table = child
    last = _index(table, parts[-1], key, source) if isinstance(table, list) else parts[-1]
    if parts == ["graph", "kind"]:
        raw["graph"] = _keep_graph_keys(raw["graph"], value)
        table = raw["graph"]
    if isinstance(value, str) and last == "path":
        value = str(Path(value).resolve())
    origins[key] = source
    if isinstance(value, dict):
        origins |= {leaf: source for leaf in _leaf_keys(value, f"{key}.")}
        if isinstance(value.get("path"), str):
            value = value | {"path": str(Path(value["path"]).resolve())}
        old = table[last] if isinstance(table, list) else table.get(last)
        if isinstance(old, dict):
            value = _merge({parts[-1]: old}, {parts[-1]: value})[parts[-1]]
    table[last] = value


def _default_list(name: str) -> list:
    """A table list's default entries (`tiers`), as a file would write them."""
    field = Scenario.model_fields.get(name)
    if field is None:
        return []
    default = field.get_default(call_default_factory=True)
    if not isinstance(default, list):
        return []
    return [entry.model_dump(mode="json") for entry in default]


def _index(entries: list, part: str, key: str, source: str) -> int:
    """The entry of a table list a key names by its index."""
    if not part.isdigit() or int(part) >= len(entries):
        held = f"entries 0 to {len(entries) - 1}" if entries else "no entries"
        raise ScenarioError(source, key, f"no entry '{part}': the list has {held}")
    return int(part)


def _explain(err: ValidationError, origins: dict[str, str], top: str) -> ScenarioError:
    """Turn pydantic's first error into a one-line ScenarioError naming file and key."""
    first = err.errors()[0]
    loc = [str(part) for part in first["loc"]]
    if len(loc) > 1 and loc[0] == "graph" and loc[1] in GRAPH_KINDS:
        del loc[1]
    key = ".".join(loc)
    message = first["msg"].removeprefix("Value error, ")
    rule = first.get("ctx", {}).get("error")
    if isinstance(rule, RuleError):
        key, message = rule.key, str(rule)
        for related in rule.related:
            message += f"; {related} is set in {origin(origins, related, top)}"
    source = origin(origins, key, top)
    shows_input = first["type"] not in ("missing", "extra_forbidden") and rule is None
    if shows_input and not isinstance(first.get("input", {}), (dict, list)):
        message += f" (got {shown(first['input'])})"
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    return ScenarioError(source, key or None, message)


def origin(origins: dict[str, str], key: str, top: str) -> str:
    """Where a dotted key was set: the file (or --set) of the key or of the nearest
    table or list holding it, else `top`."""
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        found = origins.get(".".join(parts[:end]))
        if found is not None:
            return found
    return top


def shown(value: Any) -> str:
    """A rejected value as the error line shows it: numbers and short words as they are,
    longer text by its length only (the line must not carry a file's content)."""
    if isinstance(value, str) and (len(value) > 24 or not value.isprintable()):
        return f"a text of {len(value)} characters"
    return repr(value)
