"""Calibration: parameters recovered from figures simulated with known values, the loss
lowest at those values, a study that survives `kill -9`, and `sharelab calibrate`'s
files and refusals."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

from simulation import load_scenario
from simulation.cli import main
from simulation.experiments.calibration import Calibration, parse_parameter
from simulation.experiments.runner import RunTask, simulate
from simulation.experiments.seeds import replicate_seed
from simulation.experiments.targets import Target, figures, log_loss
from simulation.scenario import Scenario, ScenarioError
from tests.conftest import ROOT, SCENARIOS

BASELINE = SCENARIOS / "baseline.toml"
ENV = os.environ | {"PYTHONPATH": str(ROOT)}

# A small scenario in which both parameters show: many founders, so growth is much the
# same on every seed; short, trusting repurchase cycles and few self-purchases, so
# repurchase_prob moves the orders per buyer.
SMALL = {
    "population.size": 3000,
    "population.initial_members": 100,
    "run.steps": 100,
    "purchase.repurchase_days": 5,
    "trust.baseline": 0.9,
    "purchase.self_purchase_prob": 0.005,
}
TRUTH = {"recruitment.invite_prob": 0.01, "purchase.repurchase_prob": 0.5}
START = {"recruitment.invite_prob": 0.03, "purchase.repurchase_prob": 0.2}
PARAMS = ["recruitment.invite_prob=0.002:0.05:log", "purchase.repurchase_prob=0.1:0.9"]
# (metric, day, period): the growth of the membership, which invite_prob sets, and
# orders per buyer, per member who ordered and per share received, which
# repurchase_prob moves
SHAPE = [
    ("cumulative_members", 20, None),
    ("cumulative_members", 35, None),
    ("cumulative_members", 100, None),
    ("placed_orders", 100, 30),
    ("placed_orders/annual_buyers", 100, None),
    ("placed_orders/annual_buyers", 100, 30),
    ("annual_transacting_members/annual_buyers", 100, None),
    ("placed_orders/exposures", 100, None),
]
TRUTH_REPLICATES = 4


def run_on(base: Scenario, params: dict, seeds: list[int]) -> list[pd.DataFrame]:
    dump = base.model_dump(mode="json")
    results = [simulate(RunTask("k", 0, r, s, params, dump)) for r, s in enumerate(seeds)]
    assert all(row["status"] == "done" for row, _ in results), results[0][0]["error"]
    return [series for _, series in results]


@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario(BASELINE, SMALL)


@pytest.fixture(scope="module")
def truth_targets(base) -> list[Target]:
    """The figures of runs with the true parameters, on seeds of their own (not the
    calibration's), as reported targets: the mean of four runs."""
    seeds = [replicate_seed("truth", r) for r in range(TRUTH_REPLICATES)]
    probes = [Target(metric, day, 1.0, period=period) for metric, day, period in SHAPE]
    means = figures(probes, run_on(base, TRUTH, seeds), base.population.scale).mean(axis=1)
    return [
        Target(metric, day, float(value), period=period)
        for (metric, day, period), value in zip(SHAPE, means, strict=True)
    ]


def test_calibration_recovers_known_parameters(base, truth_targets, tmp_path):
    """From a start far off (invite 0.03, repurchase 0.2), 40 trials of 2 replicates
    recover invite_prob 0.01 and repurchase_prob 0.5 within 15% each.

    Observed here with sampler seed 0 (the test's): invite_prob 0.0089 (−10.6%),
    repurchase_prob 0.514 (+2.7%). With sampler seeds 1–4: invite_prob off by +10.0%,
    +4.8%, +2.6%, −3.0%; repurchase_prob by −0.5%, +2.2%, −8.5%, −2.2%. The loss's
    minimum on the calibration's seeds lies within a few per cent of the truth: what
    limits the recovery is how close 40 TPE trials come to it, hence 15% (about 1.4
    times the worst error seen).
    """
    calibration = Calibration(
        base,
        truth_targets,
        PARAMS,
        trials=40,
        replicates=2,
        workers=2,
        out=tmp_path / "fit",
        start=START,
        seed=0,
        progress=False,
    )
    truth_seeds = {replicate_seed("truth", r) for r in range(TRUTH_REPLICATES)}
    assert not truth_seeds & set(calibration.seeds())
    result = calibration.run()
    assert len(result.history) == 40 and result.history.loc[0, "loss"] > result.loss
    assert result.history.loc[0, "recruitment.invite_prob"] == START["recruitment.invite_prob"]
    found = result.params
    assert found["recruitment.invite_prob"] == pytest.approx(0.01, rel=0.15)
    assert found["purchase.repurchase_prob"] == pytest.approx(0.5, rel=0.15)


def test_the_loss_is_lowest_at_the_true_parameters(base, truth_targets, tmp_path):
    """On the calibration's own seeds, the loss at the truth is below the loss with
    either parameter 30% lower or higher; and a trial's loss is that loss."""
    calibration = Calibration(
        base,
        truth_targets,
        PARAMS,
        trials=1,
        replicates=2,
        start=TRUTH,
        progress=False,
        out=tmp_path / "one",
    )
    seeds = calibration.seeds()

    def loss(params: dict) -> float:
        values = figures(truth_targets, run_on(base, params, seeds), 1.0)
        return log_loss(truth_targets, values)

    at_truth = loss(TRUTH)
    for key in TRUTH:
        for factor in (0.7, 1.3):
            assert at_truth < loss(TRUTH | {key: TRUTH[key] * factor}), (key, factor)
    result = calibration.run()
    assert result.params == TRUTH and result.trial == 0
    assert result.loss == pytest.approx(at_truth, rel=1e-12)


# ---------------------------------------------------------------- the command line


def tiny_targets(folder: Path) -> Path:
    path = folder / "targets.csv"
    path.write_text(
        "# made-up reported figures for a tiny run\n"
        "metric,day,value,weight,period,fit\n"
        "cumulative_members,20,60,,,\n"
        "placed_orders,20,40,,10,\n"
        "annual_buyers,20,80,,,false\n"
    )
    return path


def calibrate_args(folder: Path, out: Path, *extra: str, trials: int = 3) -> list[str]:
    return [
        "calibrate",
        str(BASELINE),
        "--target",
        str(tiny_targets(folder)),
        "--param",
        "recruitment.invite_prob=0.002:0.05:log",
        "--param",
        "purchase.repurchase_prob=0.1:0.9",
        "--set",
        "population.size=300",
        "--set",
        "population.initial_members=10",
        "--steps",
        "20",
        "--trials",
        str(trials),
        "--replicates",
        "1",
        "--quiet",
        "--out",
        str(out),
        *extra,
    ]


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory) -> tuple[Path, Path, str]:
    """One finished `sharelab calibrate` of three trials: its folder (targets file),
    its --out, and what it printed."""
    folder = tmp_path_factory.mktemp("calibrated")
    out = folder / "cal"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(calibrate_args(folder, out)) == 0
    return folder, out, printed.getvalue()


def copy_of(calibrated, tmp_path: Path) -> Path:
    _, out, _ = calibrated
    return Path(shutil.copytree(out, tmp_path / "cal"))


def test_calibrate_writes_the_fit_and_best_toml_has_the_best_parameters(calibrated):
    _, out, printed = calibrated
    fit = out / "fit"
    assert {p.name for p in fit.iterdir()} == {
        "best.toml",
        "targets.csv",
        "trials.csv",
        "targets.png",
        "history.png",
    }
    assert {p.name for p in out.iterdir()} == {"fit", "study.db", "calibration.json"}
    study = optuna.load_study(study_name="calibration", storage=f"sqlite:///{out / 'study.db'}")
    assert len(study.trials) == 3
    best = study.best_trial
    scenario = load_scenario(fit / "best.toml")
    assert scenario.recruitment.invite_prob == best.params["recruitment.invite_prob"]
    assert scenario.purchase.repurchase_prob == best.params["purchase.repurchase_prob"]
    assert scenario.population.size == 300 and scenario.run.steps == 20
    assert f"# Calibrated: trial {best.number}" in (fit / "best.toml").read_text()
    trials = pd.read_csv(fit / "trials.csv")
    assert len(trials) == 3 and trials["loss"].min() == pytest.approx(best.value)
    table = pd.read_csv(fit / "targets.csv")
    assert table["metric"].tolist() == ["cumulative_members", "placed_orders", "annual_buyers"]
    assert table["fit"].tolist() == [True, True, False]
    assert np.allclose(table["model_mean"], np.array(best.user_attrs["figures"]).mean(axis=1))
    assert np.allclose(table["error"], table["model_mean"] / table["value"] - 1)
    assert f"is trial {best.number}" in printed and "recruitment.invite_prob" in printed


def test_the_same_command_resumes_and_adds_trials(calibrated, tmp_path):
    folder = calibrated[0]
    out = copy_of(calibrated, tmp_path)
    storage = f"sqlite:///{out / 'study.db'}"
    before = optuna.load_study(study_name="calibration", storage=storage).trials
    assert main(calibrate_args(folder, out, trials=4)) == 0
    after = optuna.load_study(study_name="calibration", storage=storage).trials
    assert len(after) == 4
    assert [(t.params, t.value) for t in after[:3]] == [(t.params, t.value) for t in before]
    assert len(pd.read_csv(out / "fit" / "trials.csv")) == 4


@pytest.mark.parametrize(
    "change",
    [
        ["--param", "purchase.price=80:120"],
        ["--seed", "5"],
        ["--set", "population.size=400"],
        ["--replicates", "2"],
    ],
)
def test_another_calibration_into_the_same_out_is_refused(calibrated, tmp_path, capsys, change):
    folder = calibrated[0]
    out = copy_of(calibrated, tmp_path)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    args = calibrate_args(folder, out)
    if change[0] == "--replicates":
        args[args.index("--replicates") + 1] = change[1]
    else:
        args += change
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sharelab: error: --out: ")
    assert str(out) in err and "holds another calibration" in err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


@pytest.mark.parametrize(
    ("param", "words"),
    [
        ("x=1", "list at least two values, or give a range LO:HI"),
        ("purchase.price", "expected KEY=LO:HI[:int][:log] or KEY=v1,v2,..."),
        ("purchase.price=1:2:3", "after LO:HI only :int and :log may follow"),
        ("purchase.price=1:2:lin", "after LO:HI only :int and :log may follow"),
        ("purchase.price=1:2:log:log", "after LO:HI only :int and :log may follow"),
        ("purchase.price=80,80", "a value is listed twice"),
        ("no.such.key=1,2", "unknown key"),
        ("purchase.price=a:b", "LO and HI must be numbers"),
        ("purchase.price=5:1", "LO must be below HI"),
        ("purchase.price=5:5", "LO must be below HI"),
        ("purchase.price=0:5:log", "a log scale needs LO > 0"),
        ("purchase.price=1:inf", "bounds must be finite"),
        ("no.such.key=0:1", "no.such.key: is not a numeric scenario key"),
        ("sharing.targeting=0:1", "sharing.targeting: is not a numeric scenario key"),
        ("purchase.targeting=0:1", "purchase.targeting: is not a numeric scenario key"),
        ("purchase.conversion=0.1:2", "purchase.conversion"),
    ],
)
def test_a_bad_param_exits_2_in_one_line_and_writes_nothing(in_tmp, capsys, param, words):
    out = in_tmp / "cal"
    args = calibrate_args(in_tmp, out)
    args[args.index("--param") + 1] = param
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sharelab: error: ")
    assert words in err
    assert not out.exists()


def test_a_key_given_twice_and_a_bad_count_are_refused(in_tmp, capsys):
    twice = calibrate_args(in_tmp, in_tmp / "a") + ["--param", "purchase.repurchase_prob=0.2:0.3"]
    assert main(twice) == 2
    assert "a key is given twice" in capsys.readouterr().err
    none = calibrate_args(in_tmp, in_tmp / "b", trials=0)
    assert main(none) == 2
    assert "--trials: 0: must be from 1" in capsys.readouterr().err
    late = calibrate_args(in_tmp, in_tmp / "c")
    late[late.index("--steps") + 1] = "15"
    assert main(late) == 2
    err = capsys.readouterr().err
    assert "cumulative_members @ day 20" in err and "raise run.steps" in err
    assert not any((in_tmp / name).exists() for name in "abc")


def test_parse_parameter_reads_bounds_and_scale():
    parameter = parse_parameter(" purchase.price =80:120.5:log")
    assert (parameter.key, parameter.low, parameter.high, parameter.log) == (
        "purchase.price",
        80.0,
        120.5,
        True,
    )
    assert not parse_parameter("population.size=100:200").log
    assert parse_parameter("population.size=100:200").whole
    assert not parse_parameter("purchase.price=1:2").whole
    with pytest.raises(ScenarioError):
        parse_parameter("purchase.price=1")


def test_the_same_seed_gives_the_same_trials(tmp_path):
    """Eleven trials: one past the sampler's ten random ones, so a choice of TPE's
    own is compared too."""

    def history(seed: int, name: str, trials: int) -> pd.DataFrame:
        calibration = Calibration(
            BASELINE,
            tiny_targets(tmp_path),
            PARAMS,
            trials=trials,
            replicates=1,
            workers=1,
            out=tmp_path / name,
            overrides={"population.size": 300, "population.initial_members": 10, "run.steps": 20},
            seed=seed,
            progress=False,
        )
        return calibration.run().history[["number", "loss", *TRUTH]]

    first, second = history(3, "a", 11), history(3, "b", 11)
    pd.testing.assert_frame_equal(first, second)
    assert first["loss"].nunique() > 1
    other = history(4, "c", 2)
    assert not np.allclose(other[list(TRUTH)], first[list(TRUTH)].iloc[:2])


# ------------------------------------------------------------ kill -9 and resume


def trial_states(db: Path) -> list[tuple[int, str, int]]:
    """(number, state, parameters set) of every trial, read without optuna (which
    would create the schema if it were not there yet, racing the calibration)."""
    query = (
        "SELECT t.number, t.state, COUNT(p.param_id) FROM trials t "
        "LEFT JOIN trial_params p ON p.trial_id = t.trial_id GROUP BY t.trial_id ORDER BY t.number"
    )
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute(query).fetchall()
    except sqlite3.Error:
        return []


def kill_mid_trial(command: list[str], cwd: Path, db: Path, parameters: int) -> int:
    """Run `command` and kill it (SIGKILL) once two trials have completed and a trial
    with all its `parameters` set is simulating; its return code."""
    process = subprocess.Popen(
        command, env=ENV, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            rows = trial_states(db)
            complete = sum(state == "COMPLETE" for _, state, _ in rows)
            simulating = any(state == "RUNNING" and n == parameters for _, state, n in rows)
            if complete >= 2 and simulating:
                break
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    return process.returncode


def test_a_calibration_killed_mid_trial_resumes_without_losing_trials(tmp_path):
    """Killed (SIGKILL) while a trial simulates, after two trials completed: the same
    command finishes the eight trials, keeps the completed ones as they were, marks
    the cut one failed and runs its parameters again first."""
    out = tmp_path / "cal"
    command = [sys.executable, "-m", "simulation.cli", *calibrate_args(tmp_path, out, trials=8)]
    command[command.index("population.size=300")] = "population.size=1000"
    command[command.index("--steps") + 1] = "40"
    returncode = kill_mid_trial(command, tmp_path, out / "study.db", len(PARAMS))
    assert returncode == -signal.SIGKILL, "the calibration ended before the kill"

    storage = f"sqlite:///{out / 'study.db'}"
    killed = optuna.load_study(study_name="calibration", storage=storage).trials
    done = {t.number: (t.params, t.value) for t in killed if t.state.name == "COMPLETE"}
    (cut,) = [t for t in killed if t.state.name == "RUNNING"]
    assert 2 <= len(done) < 8 and len(cut.params) == len(PARAMS)
    assert len(killed) == len(done) + 1

    rerun = subprocess.run(command, env=ENV, cwd=tmp_path, capture_output=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr.decode()
    trials = optuna.load_study(study_name="calibration", storage=storage).trials
    for number, (params, value) in done.items():
        assert trials[number].state.name == "COMPLETE"
        assert (trials[number].params, trials[number].value) == (params, value)
    finished = [t for t in trials if t.state.name == "COMPLETE" or "error" in t.user_attrs]
    assert len(finished) == 8 and len(trials) == 9
    failed = trials[cut.number]
    assert failed.state.name == "FAIL" and "error" not in failed.user_attrs
    rerun_first = trials[len(killed)]
    assert rerun_first.state.name == "COMPLETE" and rerun_first.params == cut.params
    assert rerun_first.system_attrs.get("fixed_params") == cut.params
    best = min((t for t in trials if t.state.name == "COMPLETE"), key=lambda t: t.value)
    scenario = load_scenario(out / "fit" / "best.toml")
    assert scenario.recruitment.invite_prob == best.params["recruitment.invite_prob"]
    assert scenario.purchase.repurchase_prob == best.params["purchase.repurchase_prob"]


def test_a_resumed_calibration_does_not_repeat_its_trials(tmp_path):
    def calibration(trials: int) -> Calibration:
        return Calibration(
            BASELINE,
            tiny_targets(tmp_path),
            PARAMS,
            trials=trials,
            replicates=1,
            out=tmp_path / "cal",
            overrides={"population.size": 300, "population.initial_members": 10, "run.steps": 20},
            progress=False,
        )

    calibration(2).run()
    history = calibration(4).run().history
    points = {tuple(row) for row in history[list(TRUTH)].itertuples(index=False)}
    assert len(points) == 4


def test_a_whole_number_log_range_reaching_below_one_is_refused_up_front(in_tmp, capsys):
    out = in_tmp / "cal"
    args = calibrate_args(in_tmp, out)
    args[args.index("--param") + 1] = "population.initial_members=0.3:50:log"
    assert main(args) == 2
    assert capsys.readouterr().err.startswith("sharelab: error: --param")
    assert not out.exists()


def test_an_out_that_is_a_file_or_not_a_calibration_is_refused_before_anything_runs(tmp_path):
    targets = tiny_targets(tmp_path)
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(ScenarioError, match="is a file, not a folder"):
        Calibration(BASELINE, targets, PARAMS, out=afile)
    other = tmp_path / "other"
    other.mkdir()
    (other / "fit").mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ScenarioError, match="holds something other than a calibration"):
        Calibration(BASELINE, targets, PARAMS, out=other)
    assert (other / "notes.txt").read_text() == "mine"


def test_the_result_of_a_calibration_not_yet_run_is_a_one_line_error(tmp_path):
    calibration = Calibration(BASELINE, tiny_targets(tmp_path), PARAMS, out=tmp_path / "new")
    with pytest.raises(ScenarioError, match="holds no calibration study yet"):
        calibration.result()
    assert not (tmp_path / "new").exists()
