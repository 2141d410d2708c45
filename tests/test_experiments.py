"""Sweeps: seeds, identical results on any executor, resume after kill -9, failed runs,
confidence intervals, paired comparisons and sensitivity analysis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.cli import main
from simulation.experiments import analysis, sensitivity
from simulation.experiments.design import factorial, parse_vary, sampled
from simulation.experiments.runner import Sweep
from simulation.experiments.seeds import replicate_seed, run_key
from tests.conftest import SCENARIOS

BASELINE = SCENARIOS / "baseline.toml"
SMALL = {"population.size": 1500, "run.steps": 30}
VARY = {"commission.override_rates": [[0.03], [0.08]], "commission.entry_fee": [0.0, 50.0]}


def comparable(runs: pd.DataFrame) -> pd.DataFrame:
    """runs.parquet without the wall-clock column, which no two machines share."""
    return runs.drop(columns=["wall_s"]).reset_index(drop=True)


def small_sweep(out: Path, **options) -> Sweep:
    options = {"vary": VARY, "replicates": 2, "overrides": SMALL, "progress": False} | options
    return Sweep(BASELINE, out=out, **options)


def test_seeds_depend_on_replicate_not_on_point_and_keys_are_stable():
    assert replicate_seed("abc", 0) == replicate_seed("abc", 0)
    assert replicate_seed("abc", 0) != replicate_seed("abc", 1)
    assert replicate_seed("abc", 0) != replicate_seed("abd", 0)
    assert run_key("abc", {"x": 1}, 0) == run_key("abc", {"x": 1}, 0)
    assert run_key("abc", {"x": 1}, 0) != run_key("abc", {"x": 2}, 0)


def test_the_same_run_has_the_same_key_and_seed_in_any_sweep(tmp_path):
    one = small_sweep(tmp_path / "a", vary={"commission.entry_fee": [0.0, 50.0]})
    two = small_sweep(tmp_path / "b", vary={"commission.entry_fee": [50.0, 99.0]})
    shared = {(t.key, t.seed) for t in one.tasks()} & {(t.key, t.seed) for t in two.tasks()}
    assert len(shared) == 2


def test_identical_results_on_one_worker_two_workers_and_dask(tmp_path):
    inline = small_sweep(tmp_path / "inline", workers=1).run()
    pool = small_sweep(tmp_path / "pool", workers=2).run()
    dask = small_sweep(tmp_path / "dask", workers=2, dask="local").run()
    assert len(inline) == 8 and (inline["status"] == "done").all()
    pd.testing.assert_frame_equal(comparable(inline), comparable(pool))
    pd.testing.assert_frame_equal(comparable(inline), comparable(dask))
    series = [small_sweep(tmp_path / n).timeseries() for n in ("inline", "pool")]
    pd.testing.assert_frame_equal(series[0], series[1])


def sweep_command(out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "simulation.cli",
        "sweep",
        str(BASELINE),
        "--vary",
        "commission.entry_fee=0,20,40,60",
        "--replicates",
        "3",
        "--set",
        "population.size=2000",
        "--steps",
        "60",
        "--out",
        str(out),
        "--quiet",
    ]


def test_a_sweep_killed_midway_resumes_without_losing_or_duplicating_runs(tmp_path):
    out = tmp_path / "killed"
    env = os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    process = subprocess.Popen(
        sweep_command(out),
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while len(list((out / "rows").glob("*.parquet"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    stored = len(list((out / "rows").glob("*.parquet")))
    assert 3 <= stored < 12, "the sweep should have been killed midway"
    assert not (out / "runs.parquet").exists()
    subprocess.run(sweep_command(out), env=env, check=True, capture_output=True)
    subprocess.run(sweep_command(tmp_path / "whole"), env=env, check=True, capture_output=True)
    resumed = pd.read_parquet(out / "runs.parquet")
    whole = pd.read_parquet(tmp_path / "whole" / "runs.parquet")
    assert resumed["run_key"].is_unique and len(resumed) == 12
    pd.testing.assert_frame_equal(comparable(resumed), comparable(whole))
    assert len(list((out / "timeseries").glob("*.parquet"))) == 12
    assert not list((out / "rows").glob(".*"))


def test_a_run_that_raises_is_recorded_and_the_rest_complete(tmp_path):
    graph = tmp_path / "g.txt"
    graph.write_text("0 1\n1 2\n2 0\n")
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        f'extends = "{BASELINE}"\n[run]\nsteps = 5\n[population]\nsize = 3\ninitial_members = 1\n'
        f'[graph]\nkind = "edgelist"\npath = "{graph}"\n'
    )
    sweep = Sweep(
        scenario, vary={"population.size": [3, 4]}, replicates=2, out=tmp_path / "o", progress=False
    )
    runs = sweep.run()
    assert list(runs["status"]) == ["done", "done", "failed", "failed"]
    assert runs["error"].iloc[-1].startswith("ScenarioError")
    assert "population.size is 4" in runs["error"].iloc[-1]
    assert len(sweep.timeseries()) == 2 * 5


def test_confidence_intervals_per_point(tmp_path):
    sweep = small_sweep(tmp_path / "ci", vary={"commission.entry_fee": [0.0]}, replicates=4)
    runs = sweep.run()
    summary = sweep.summary(["gmv"])
    mean, low, high = analysis.mean_ci(runs["gmv"].to_numpy())
    row = summary.iloc[0]
    assert row["n"] == 4 and row["mean"] == pytest.approx(mean)
    assert row["ci_low"] == pytest.approx(low) and row["ci_high"] == pytest.approx(high)
    assert low < mean < high
    assert analysis.mean_ci(np.array([1.0, 3.0])) == pytest.approx(
        (2.0, 2 - 12.7062, 2 + 12.7062), abs=1e-3
    )


def test_paired_differences_are_much_tighter_than_unpaired(tmp_path):
    sweep = Sweep(
        BASELINE,
        vary={"commission.override_rates": [[0.03], [0.06]]},
        replicates=10,
        overrides={"population.size": 4000, "run.steps": 120, "population.initial_members": 60},
        out=tmp_path / "paired",
        workers=2,
        progress=False,
    )
    sweep.run()
    diff = sweep.compare("gmv").iloc[0]
    paired = diff["paired_ci_high"] - diff["paired_ci_low"]
    unpaired = diff["unpaired_ci_high"] - diff["unpaired_ci_low"]
    assert paired < 0.4 * unpaired


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_pipeline_recovers_the_ishigami_indices():
    ranges = {"x1": (-np.pi, np.pi), "x2": (-np.pi, np.pi), "x3": (-np.pi, np.pi)}
    design = sampled("sobol", 2048, ranges, seed=1)
    indices = sensitivity.analyse(design, ishigami(design.points.to_numpy())).set_index("parameter")
    assert indices["S1"].to_numpy() == pytest.approx([0.3139, 0.4424, 0.0], abs=0.03)
    assert indices["ST"].to_numpy() == pytest.approx([0.5576, 0.4424, 0.2437], abs=0.03)


def test_morris_ranks_the_ishigami_inputs():
    ranges = {"x1": (-np.pi, np.pi), "x2": (-np.pi, np.pi), "x3": (-np.pi, np.pi)}
    design = sampled("morris", 200, ranges, seed=1)
    indices = sensitivity.analyse(design, ishigami(design.points.to_numpy()))
    # x1 and x2 have near-equal mean absolute effects (their order depends on the
    # sample); x3 acts only through its interaction with x1: least effect, nonzero spread.
    assert indices["mu_star"].idxmin() == 2
    assert indices["mu_star"].iloc[2] < 0.9 * indices["mu_star"].iloc[:2].min()
    assert indices["sigma"].iloc[2] > 0


def test_sampled_sweep_end_to_end_with_sensitivity(tmp_path):
    sweep = Sweep(
        BASELINE,
        sample="morris:2",
        ranges={"commission.entry_fee": (0.0, 100.0), "population.initial_members": (10, 40)},
        overrides=SMALL,
        out=tmp_path / "m",
        progress=False,
    )
    runs = sweep.run()
    assert len(runs) == 2 * 3
    assert runs["population.initial_members"].dtype.kind == "i"
    assert set(sweep.sensitivity("ever_members")["parameter"]) == {
        "commission.entry_fee",
        "population.initial_members",
    }


def test_vary_parsing_keeps_lists_whole():
    assert parse_vary(["commission.override_rates=[0.1,0.05],[0.2]", "a.b=1,2"]) == {
        "commission.override_rates": [[0.1, 0.05], [0.2]],
        "a.b": [1, 2],
    }
    assert len(factorial({"a": [1, 2], "b": [3, 4, 5]}).points) == 6


def test_sweep_and_report_commands(tmp_path, capsys):
    out = tmp_path / "cli"
    args = [
        "sweep",
        str(BASELINE),
        "--vary",
        "commission.entry_fee=0,30",
        "--replicates",
        "2",
        "--set",
        "population.size=1500",
        "--steps",
        "20",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    assert "4 of 4 runs done (0 failed)" in capsys.readouterr().out
    assert main(args) == 0
    assert len(pd.read_parquet(out / "runs.parquet")) == 4
    assert main(["report", str(out)]) == 0
    report = (out / "report" / "report.md").read_text()
    assert "Paired differences" in report and "commission.entry_fee" in report
    assert (out / "report" / "gmv_by_commission.entry_fee.png").exists()


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ([], "either --vary or --sample"),
        (["--vary", "a.b=1", "--sample", "sobol:4", "--range", "a.b=0:1"], "either --vary"),
        (["--sample", "sobol:4", "--range", "commission.entry_fee=5:1"], "low < high"),
        (["--sample", "halton:4", "--range", "commission.entry_fee=0:1"], "--sample"),
        (["--vary", "commission.entry_fee=-5,0"], "--vary: commission.entry_fee"),
        (["--vary", "commission.colour=1,2"], "unknown key"),
    ],
)
def test_bad_sweeps_exit_2_and_write_nothing(tmp_path, capsys, extra, words):
    out = tmp_path / "bad"
    assert main(["sweep", str(BASELINE), *extra, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
    assert not out.exists()


def test_a_store_of_another_sweep_is_refused(tmp_path, capsys):
    out = tmp_path / "s"
    small_sweep(out, vary={"commission.entry_fee": [0.0]}, replicates=1).run()
    args = [
        "sweep",
        str(BASELINE),
        "--vary",
        "commission.entry_fee=10",
        "--out",
        str(out),
        "--quiet",
        "--set",
        "population.size=1500",
        "--steps",
        "30",
    ]
    assert main(args) == 2
    assert "holds a different sweep" in capsys.readouterr().err
