"""What a new user tries first: bare `sharelab`, `--version`, the shipped presets, the
keys of a scenario, defaults in help, JSON from a run."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

import pytest

from simulation.cli import main
from simulation.command import entry
from simulation.scenario.reference import keys
from simulation.scenario.schema import Scenario
from tests.conftest import SCENARIOS


def test_bare_sharelab_prints_usage(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: sharelab") and "presets" in out and "keys" in out


def test_version_names_the_package_python_and_mesa(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("sharelab 0.") and "Python 3." in line and "Mesa 3." in line


def test_the_installed_command_runs_main_and_leaves_the_collector_on(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["sharelab", "presets", "--root", str(SCENARIOS)])
    try:
        assert entry() == 0
        assert gc.isenabled() and gc.get_freeze_count() > 0
        assert "pyramid.toml" in capsys.readouterr().out
        monkeypatch.setitem(sys.modules, "simulation.cli", None)
        with pytest.raises(ImportError):
            entry()
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_the_package_names_its_exports_before_they_load():
    probe = (
        "import json, sys, simulation; listed = dir(simulation); "
        "loaded = 'simulation.model' in sys.modules; from simulation import *; "
        "print(json.dumps([listed, loaded, SocialCommerceModel.__name__]))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    listed, loaded, model = json.loads(result.stdout)
    assert {"Scenario", "ScenarioError", "SocialCommerceModel", "Sweep", "load_scenario"} <= set(
        listed
    )
    assert not loaded and model == "SocialCommerceModel"
    import simulation

    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        simulation.nothing  # noqa: B018


def test_presets_lists_every_shipped_scenario_with_its_description(capsys):
    assert main(["presets", "--root", str(SCENARIOS)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(list(SCENARIOS.rglob("*.toml")))
    pyramid = next(line for line in lines if "pyramid.toml" in line)
    assert "Entry and monthly fees, recruiting bonuses" in pyramid
    assert main(["presets", "--root", "nowhere"]) == 2


def test_keys_cover_the_schema_with_types_defaults_and_meanings(capsys):
    listed = {row["key"] for row in keys()}
    for name, field in Scenario.model_fields.items():
        section = getattr(field.annotation, "model_fields", None)
        if section and name != "graph":
            assert {f"{name}.{key}" for key in section} <= listed
    assert {"tiers.N.direct_rate", "products.N.price", "graph.rewire_prob"} <= listed
    assert main(["keys", "commission"]) == 0
    out = capsys.readouterr().out
    entry = next(line for line in out.splitlines() if line.startswith("commission.entry_fee"))
    assert "number" in entry and "0.0" in entry and "policy" in entry and "RMB" in entry
    assert main(["keys", "nope"]) == 2
    assert "one of run, population, graph" in capsys.readouterr().err


def test_help_shows_defaults_worth_stating(capsys):
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "runs per point (default: 1)" in out and "(default: None)" not in out


def test_run_can_print_its_summary_as_json(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    small = ["--set", "population.size=300", "--steps", "3", "--quiet", "--json"]
    assert main(["run", str(SCENARIOS / "baseline.toml"), *small, "--out", "r"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["days"] == 3 and summary["results"] == "r"
