"""The strategist's workflow: list entries and list values in sweeps and reports,
designs that run every row, chosen metrics, main effects, paired differences from any
point, and a sweep that says which runs failed."""

from __future__ import annotations

import pandas as pd
import pytest

from simulation.cli import main
from simulation.experiments.analysis import main_effects
from simulation.experiments.design import factorial
from simulation.experiments.runner import Sweep
from tests.conftest import SCENARIOS

BASELINE = str(SCENARIOS / "baseline.toml")
TINY = ["--set", "population.size=300", "--steps", "5", "--quiet"]


def test_main_effects_average_over_the_other_parameters_levels():
    design = factorial({"a": [1, 2], "b": [10, 20]})
    means = {0: 1.0, 1: 3.0, 2: 5.0, 3: 11.0}  # points: (1,10) (1,20) (2,10) (2,20)
    runs = pd.DataFrame(
        [{"point": p, "replicate": 0, "status": "done", "gmv": m} for p, m in means.items()]
    )
    by_a = main_effects(runs, design, "a", ["gmv"])
    by_b = main_effects(runs, design, "b", ["gmv"])
    assert by_a["gmv"].to_dict() == {1: 2.0, 2: 8.0}
    assert by_b["gmv"].to_dict() == {10: 3.0, 20: 7.0}


@pytest.mark.parametrize(("sample", "points"), [("sobol:4", 4 * (2 * 2 + 2)), ("morris:3", 9)])
def test_sampled_designs_run_every_row(sample, points, tmp_path):
    sweep = Sweep(
        BASELINE,
        sample=sample,
        ranges={"purchase.conversion": (0.05, 0.1), "population.initial_members": (5, 6)},
        replicates=2,
        overrides={"population.size": 200, "run.steps": 2},
        out=tmp_path / "s",
        progress=False,
    )
    runs = sweep.run()
    assert len(sweep.design.points) == points and len(runs) == 2 * points
    assert (runs["status"] == "done").all()


def test_a_sweep_over_tier_rates_and_bonus_lists_summarises_and_reports(tmp_path, capsys):
    store = str(tmp_path / "s")
    vary = [
        "--vary",
        "tiers.0.direct_rate=0.1,0.2",
        "--vary",
        "commission.recruiting_bonus=[],[20.0]",
    ]
    assert (
        main(["sweep", BASELINE, *vary, *TINY, "--metrics", "ever_members,gmv", "--out", store])
        == 0
    )
    out = capsys.readouterr().out
    assert "4 of 4 runs done (0 failed)" in out and "members ever (people)" in out
    assert "e+0" not in out  # no scientific notation
    assert main(["report", store, "--metrics", "gmv", "--reference", "1"]) == 0
    report = (tmp_path / "s" / "report" / "report.md").read_text()
    assert "Paired differences from point 1" in report and "Main effects" in report
    assert "GMV, net of fakes and refunds (RMB)" in report and "members ever" not in report
    capsys.readouterr()
    assert main(["report", store, "--reference", "9"]) == 2
    assert "--reference: no point 9" in capsys.readouterr().err


def test_a_sweep_with_failed_runs_says_which_and_fails(tmp_path, capsys, monkeypatch):
    import simulation.experiments.runner as runner

    class Failing(runner.SocialCommerceModel):
        def run(self, *args, **kwargs):
            if self.policy.run.seed == 2:
                raise ZeroDivisionError("a broken mechanism")
            super().run(*args, **kwargs)

    monkeypatch.setattr(runner, "SocialCommerceModel", Failing)
    argv = ["sweep", BASELINE, "--vary", "run.seed=1,2", *TINY, "--out", str(tmp_path / "s")]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "2 of 2 runs done (1 failed)" in captured.out
    assert "run failed: point 1, replicate 0: ZeroDivisionError: a broken mechanism" in captured.err


def test_a_replicated_run_is_a_store_of_one_point_with_intervals(tmp_path, capsys):
    store = tmp_path / "r"
    assert main(["run", BASELINE, *TINY, "--replicates", "3", "--out", str(store)]) == 0
    out = capsys.readouterr().out
    assert "baseline: 3 of 3 runs done" in out and "mean (95% CI)" in out
    runs = pd.read_parquet(store / "runs.parquet")
    assert len(runs) == 3 and runs["seed"].nunique() == 3
    assert main(["report", str(store)]) == 0
    argv = ["run", BASELINE, *TINY, "--replicates", "2", "--json", "--out", str(tmp_path / "j")]
    assert main(argv) == 2


def test_a_sweep_over_whole_tier_tables_summarises_and_reports(tmp_path, capsys):
    store = str(tmp_path / "s")
    tiers = 'tiers=[{name="a", direct_rate=0.1}],[{name="a", direct_rate=0.2}]'
    assert main(["sweep", BASELINE, "--vary", tiers, *TINY, "--out", store]) == 0
    assert '[{"name": "a", "direct_rate": 0.2}]' in capsys.readouterr().out
    assert main(["report", store]) == 0
    sweep = Sweep(
        BASELINE,
        vary={"tiers": [[{"name": "a", "direct_rate": 0.1}], [{"name": "a", "direct_rate": 0.2}]]},
        overrides={"population.size": 300, "run.steps": 5},
        out=store,
        progress=False,
    )
    assert set(sweep.summary(["ever_members"])["point"]) == {0, 1}


def test_compare_puts_every_point_of_sweep_stores_side_by_side(tmp_path, capsys):
    for name, rates in (("low", "0.1,0.15"), ("high", "0.2")):
        argv = ["sweep", BASELINE, "--vary", f"tiers.0.direct_rate={rates}", *TINY]
        assert main([*argv, "--out", str(tmp_path / name)]) == 0
    capsys.readouterr()
    stores = [str(tmp_path / "low"), str(tmp_path / "high")]
    argv = ["compare", *stores, "--metrics", "ever_members", "--out", str(tmp_path / "c")]
    assert main(argv) == 0
    table = pd.read_csv(tmp_path / "c" / "comparison.csv", index_col=0)
    assert list(table.columns) == [
        "low: tiers.0.direct_rate=0.1",
        "low: tiers.0.direct_rate=0.15",
        "high: tiers.0.direct_rate=0.2",
    ]
    assert list(table.index) == ["members ever (people)"]
    mixed = ["compare", stores[0], str(tmp_path / "nothing"), "--out", str(tmp_path / "m")]
    assert main(mixed) == 2
    assert "not both" in capsys.readouterr().err


def test_the_interaction_table_holds_each_pair_of_levels():
    from simulation.experiments.analysis import interaction

    design = factorial({"a": [1, 2], "b": [10, 20]})
    means = {0: 1.0, 1: 3.0, 2: 5.0, 3: 11.0}
    runs = pd.DataFrame(
        [{"point": p, "replicate": 0, "status": "done", "gmv": m} for p, m in means.items()]
    )
    table = interaction(runs, design, "a", "b", "gmv")
    assert table.loc[1, 10] == 1.0 and table.loc[2, 20] == 11.0 and table.loc[2, 10] == 5.0
