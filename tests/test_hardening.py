"""Bad or hostile input and faults of the machine: one line, the right exit status,
the right file and key blamed, nothing written, never a traceback (sweeps, stores,
reports and comparisons: test_hardening_sweeps.py)."""

from __future__ import annotations

import errno
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulation import load_scenario
from simulation.cli import main
from simulation.scenario import ScenarioError
from simulation.world import footprint
from tests.conftest import SCENARIOS

BASELINE = str(SCENARIOS / "baseline.toml")
TINY = "population={size=3, initial_members=1}"
SMALL = ["--set", "population.size=300", "--steps", "3", "--quiet"]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def everything(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


def fails(argv: list[str], capsys, status: int = 2) -> str:
    """Run the command; check it ends with `status`, one line on stderr and no
    traceback; return the line."""
    assert main(argv) == status
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ("commission.entry_fee=inf", "commission.entry_fee"),
        ("graph.mean_degree=inf", "graph.mean_degree"),
        ("churn.reservation_income=nan", "churn.reservation_income"),
        ("purchase.price_elasticity=inf", "purchase.price_elasticity"),
        ("sharing.shares_per_day=inf", "sharing.shares_per_day"),
        ("recruitment.horizon_days=-inf", "recruitment.horizon_days"),
    ],
)
def test_numbers_must_be_finite(setting, key, tmp_path, capsys):
    line = fails(["run", BASELINE, *SMALL, "--set", setting, "--out", "x"], capsys)
    assert f"--set: {key}: " in line and "finite" in line
    assert everything(tmp_path) == []


@pytest.mark.parametrize("name", ["../../x", "/tmp/abs", "a" * 300, ".hidden", "_x", "a/b", ""])
def test_a_name_must_be_a_folder_name(name, tmp_path, capsys):
    line = fails(["run", BASELINE, *SMALL, "--set", f'name="{name}"'], capsys)
    assert "--set: name: " in line
    assert everything(tmp_path) == []
    assert load_scenario(BASELINE, {"name": "会员-plan_2.v1"}).name == "会员-plan_2.v1"
    (tmp_path / "_my copy (2).toml").write_text(f'extends = "{BASELINE}"\n')
    assert load_scenario(tmp_path / "_my copy (2).toml").name == "my_copy__2_"


def test_a_population_that_cannot_fit_is_refused_before_anything_is_drawn(tmp_path, capsys):
    line = fails(["run", BASELINE, *SMALL, "--set", "population.size=10000000000"], capsys)
    assert line.startswith("sharelab: error: --set: population.size: 10,000,000,000 people")
    assert "GiB of memory" in line
    line = fails(["sweep", BASELINE, "--vary", "population.size=10000000000", "--out", "s"], capsys)
    assert line.startswith("sharelab: error: --vary: population.size: ")
    dense = ["--set", 'graph={kind="erdos_renyi", mean_degree=19990.0}']
    assert "GiB of memory" in fails(["run", BASELINE, *SMALL[2:], *dense], capsys)
    assert everything(tmp_path) == []


def test_the_footprint_grows_with_people_ties_and_days(monkeypatch):
    def of(**overrides):
        return footprint.footprint(load_scenario(BASELINE, overrides))

    small = of()
    assert of(**{"population.size": 40_000}).bytes > small.bytes
    assert of(**{"graph.mean_degree": 60.0}).bytes > small.bytes
    assert of(**{"run.steps": 730}).seconds > small.seconds
    monkeypatch.setattr(footprint, "available_memory", lambda: small.bytes / 2)
    with pytest.raises(ScenarioError, match="GiB of memory"):
        footprint.check_fits(load_scenario(BASELINE))


def test_a_long_run_says_so_first(monkeypatch, capsys):
    monkeypatch.setattr("simulation.cli.LONG_RUN_SECONDS", 0)
    assert main(["run", BASELINE, *SMALL, "--out", "x"]) == 0
    assert "this run will take about" in capsys.readouterr().err


def test_an_endless_extends_chain_is_refused(tmp_path, capsys):
    for i in range(990):
        text = f'extends = "f{i + 1}.toml"\n' if i < 989 else 'name = "end"\n'
        (tmp_path / f"f{i}.toml").write_text(text)
    assert "extends: a chain of more than" in fails(["audit", "f0.toml"], capsys)


def test_extends_names_a_scenario_file_and_data_files_are_never_quoted(tmp_path, capsys):
    (tmp_path / "secret.txt").write_text('password = "hunter2-secret"\n')
    (tmp_path / "a.toml").write_text('extends = "secret.txt"\n')
    line = fails(["audit", "a.toml"], capsys)
    assert "not a scenario (.toml) file" in line and "hunter2" not in line
    (tmp_path / "edges.txt").write_text("0 1\n1 2\nhunter2-secret 3\n")
    graph = 'graph={kind="edgelist", path="edges.txt"}'
    line = fails(["run", BASELINE, *SMALL, "--set", graph, "--set", TINY], capsys)
    assert "line 3 is not two whole numbers" in line and "hunter2" not in line
    (tmp_path / "edges.txt").write_text("0 1\n1 99999999999999999999999\n")
    line = fails(["run", BASELINE, *SMALL, "--set", graph, "--set", TINY], capsys)
    assert "line 2: an id beyond 2^63" in line
    (tmp_path / "b.toml").write_text('[purchase]\nprice = "hunter2-secret-hunter2-secret"\n')
    line = fails(["audit", "b.toml"], capsys)
    assert "purchase.price" in line and "hunter2" not in line and "a text of 29" in line


def test_an_intervention_after_the_last_day_is_refused(tmp_path, capsys):
    (tmp_path / "late.toml").write_text(
        f'extends = "{BASELINE}"\n[[interventions]]\nday = 500\n'
        'set = { "commission.entry_fee" = 10.0 }\n'
    )
    line = fails(["run", "late.toml", *SMALL, "--steps", "10"], capsys)
    assert "interventions.0.day: day 500 is after the run's last day (10)" in line
    assert line.endswith("run.steps is set in --set")


def test_tiers_have_unique_names_and_climb(capsys):
    twice = 'tiers=[{name="a", direct_rate=0.1}, {name="a", direct_rate=0.2}]'
    assert "--set: tiers: each name once, but a repeats" in fails(
        ["audit", BASELINE, "--set", twice], capsys
    )
    easier = (
        'tiers=[{name="a", direct_rate=0.1}, {name="b", direct_rate=0.2, min_sales=300.0}, '
        '{name="c", direct_rate=0.3, min_sales=100.0}]'
    )
    line = fails(["audit", BASELINE, "--set", easier], capsys)
    assert "--set: tiers.2: c asks no more than b below it on every threshold" in line
    traded = (
        'tiers=[{name="a", direct_rate=0.1}, {name="b", direct_rate=0.2, min_sales=300.0}, '
        '{name="c", direct_rate=0.3, min_sales=100.0, min_team=5}]'
    )
    assert main(["audit", BASELINE, "--set", traded]) == 0  # less own sales, a bigger team


def test_set_merges_a_table_into_the_files_table(tmp_path):
    (tmp_path / "s.toml").write_text(
        f'extends = "{BASELINE}"\n[population]\nsize = 900\ninitial_members = 7\n'
    )
    scenario = load_scenario("s.toml", {"population": {"size": 300}})
    assert (scenario.population.size, scenario.population.initial_members) == (300, 7)
    graph = load_scenario("s.toml", {"graph": {"kind": "erdos_renyi"}}).graph
    assert graph.kind == "erdos_renyi" and graph.mean_degree == 20.0


def test_the_error_blames_where_the_bad_value_was_written(tmp_path, capsys):
    line = fails(["audit", BASELINE, "--set", "population={size=-1}"], capsys)
    assert line.startswith("sharelab: error: --set: population.size: ")
    (tmp_path / "parent.toml").write_text(
        f'extends = "{BASELINE}"\n[[products]]\nname = "tea"\nprice = -5.0\n'
    )
    (tmp_path / "child.toml").write_text('extends = "parent.toml"\n')
    line = fails(["audit", "child.toml"], capsys)
    assert "parent.toml: products.0.price: " in line


def test_out_under_a_file_is_refused_before_simulating(tmp_path, capsys, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setattr("simulation.cli.SocialCommerceModel", None)  # never reached
    line = fails(["run", BASELINE, *SMALL, "--out", "file/run"], capsys)
    assert "is a file, not a folder" in line


def test_a_full_disk_is_a_fault_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    import simulation.results as results

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "summary.json")

    monkeypatch.setattr(results, "save_growth_plot", full)
    line = fails(["run", BASELINE, *SMALL, "--out", "run"], capsys, status=1)
    assert line == "sharelab: error: No space left on device: summary.json"
    assert everything(tmp_path) == []
    monkeypatch.setattr("shutil.disk_usage", lambda path: shutil._ntuple_diskusage(1, 1, 0))
    monkeypatch.setattr("simulation.cli.SocialCommerceModel", None)  # never reached
    line = fails(["run", BASELINE, *SMALL, "--out", "run"], capsys, status=1)
    assert "MiB free for the results" in line


def test_an_unexpected_error_is_one_line_unless_debugging(capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("simulation.cli.audit", broken)
    line = fails(["audit", BASELINE], capsys, status=1)
    assert line == "sharelab: internal error: ZeroDivisionError: a bug (--debug shows where)"
    with pytest.raises(ZeroDivisionError):
        main(["audit", BASELINE, "--debug"])
    with pytest.raises(ZeroDivisionError):
        main(["--debug", "audit", BASELINE])


def test_a_closed_pipe_ends_quietly():
    reader_gone = subprocess.Popen(
        [sys.executable, "-m", "simulation.cli", "audit", BASELINE],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reader_gone.stdout.close()  # as `| head -1` does once it has its line
    assert reader_gone.wait(timeout=60) == 1
    assert reader_gone.stderr.read() == ""


def test_a_killed_runs_staging_folder_is_removed_by_the_next_run(tmp_path):
    process = subprocess.Popen(["true"])
    process.wait()
    debris = tmp_path / "results" / f".old.partial-{process.pid}"
    debris.mkdir(parents=True)
    (debris / "timeseries.parquet").write_text("half")
    assert main(["run", BASELINE, *SMALL, "--out", "results/new"]) == 0
    assert not debris.exists() and (tmp_path / "results" / "new" / "summary.json").is_file()


CORRUPT = {
    "missing": None,
    "a folder": "folder",
    "not UTF-8": b"\xff\xfe\x00garbage\x81",
    "TOML syntax": b"[population\nsize = = 3\n",
    "a wrong type": b'[population]\nsize = "many"\n',
    "an unknown key": b"[populaton]\nsize = 3\n",
}


@pytest.mark.parametrize("command", ["run", "audit", "sweep"])
@pytest.mark.parametrize("kind", sorted(CORRUPT))
def test_every_command_refuses_each_kind_of_corrupt_scenario_in_one_line(
    command, kind, tmp_path, capsys
):
    path = tmp_path / "corrupt.toml"
    content = CORRUPT[kind]
    if content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    extra = {"run": ["--quiet"], "audit": [], "sweep": ["--vary", "run.seed=1,2", "--out", "s"]}
    line = fails([command, str(path), *extra[command]], capsys)
    assert line.startswith(f"sharelab: error: {path}")
    assert [p for p in everything(tmp_path) if p != path] == []


def test_an_entry_of_a_table_list_is_addressed_by_its_index(tmp_path, capsys):
    scenario = load_scenario(BASELINE, {"tiers.0.direct_rate": 0.2, "tiers.1": {"min_sales": 50.0}})
    assert [t.direct_rate for t in scenario.tiers] == [0.2, 0.15]
    assert [t.min_sales for t in scenario.tiers] == [0.0, 50.0]
    pyramid = load_scenario(SCENARIOS / "schemes" / "pyramid.toml", {"tiers.0.direct_rate": 0.3})
    assert [t.direct_rate for t in pyramid.tiers] == [0.3]
    line = fails(["audit", BASELINE, "--set", "tiers.5.direct_rate=0.1"], capsys)
    assert line.endswith("tiers.5.direct_rate: no entry '5': the list has entries 0 to 1")
    line = fails(["audit", BASELINE, "--set", "products.0.price=3.0"], capsys)
    assert line.endswith("no entry '0': the list has no entries")
    assert "less than or equal to 1" in fails(
        ["audit", BASELINE, "--set", "tiers.0.direct_rate=2.0"], capsys
    )
    (tmp_path / "cut.toml").write_text(
        f'extends = "{BASELINE}"\n[run]\nsteps = 3\n[population]\nsize = 300\n'
        '[[interventions]]\nday = 2\nset = { "tiers.0.direct_rate" = 0.25 }\n'
    )
    from simulation import SocialCommerceModel

    model = SocialCommerceModel(load_scenario("cut.toml"))
    model.run()
    assert list(model.datacollector.get_model_vars_dataframe()["direct_rate"]) == [0.1, 0.25, 0.25]


def test_a_relative_edge_list_in_a_set_table_is_made_absolute(tmp_path):
    (tmp_path / "rel.txt").write_text("0 1\n1 2\n")
    graph = {"kind": "edgelist", "path": "rel.txt"}
    scenario = load_scenario(BASELINE, {"graph": graph, "population.initial_members": 1})
    assert scenario.graph.path == str(tmp_path / "rel.txt")
