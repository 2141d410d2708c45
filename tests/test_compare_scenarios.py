"""A strategist's question in one command: a scenario against a change to it, each
replicated on the same seeds, with paired 95% intervals; numbers in plain units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation import load_scenario
from simulation.cli import main
from simulation.experiments.analysis import mean_ci
from simulation.experiments.design import variants
from simulation.model import METRICS
from simulation.viz.tables import paired_table, readable, with_interval
from tests.conftest import SCENARIOS

DECLARED = {m.name: m for m in METRICS}
PYRAMID = str(SCENARIOS / "schemes" / "pyramid.toml")


def test_variants_hold_the_scenarios_own_values_then_the_changes():
    base = load_scenario(PYRAMID)
    design = variants(base, {"commission.recruiting_bonus": [], "tiers.0.direct_rate": 0.2})
    assert design.overrides(0) == {
        "commission.recruiting_bonus": [120.0, 60.0, 30.0, 20.0, 10.0],
        "tiers.0.direct_rate": 0.1,
    }
    assert design.overrides(1) == {"commission.recruiting_bonus": [], "tiers.0.direct_rate": 0.2}


def test_numbers_read_in_their_units():
    assert readable(DECLARED["gmv"], 3_826_876.13) == "3.83 M"
    assert readable(DECLARED["gmv"], 15_000.0) == "15.0 K"
    assert readable(DECLARED["gmv"], -314_800.0, signed=True) == "-314.8 K"
    assert readable(DECLARED["loss_fraction"], 0.812) == "81.2%"
    assert readable(DECLARED["loss_fraction"], 0.127, signed=True) == "+12.7 pp"
    assert readable(DECLARED["ever_members"], 19_827.4) == "19,827"
    assert readable(DECLARED["retail_customers_per_member"], None) == "n/a"
    share = DECLARED["loss_fraction"]
    assert with_interval(share, 0.01, -0.02, 0.04) == "1.0% (0.0% to 4.0%)"
    assert with_interval(DECLARED["payout_ratio"], 1.3, 1.2, 1.4) == "130.0% (120.0% to 140.0%)"
    assert with_interval(share, 0.5, float("nan"), float("nan")) == "50.0%"


def test_the_paired_table_takes_differences_replicate_by_replicate():
    gmv = {0: [100.0, 200.0, 300.0], 1: [110.0, 212.0, 309.0]}
    runs = pd.DataFrame(
        [
            {"point": p, "replicate": r, "status": "done", "gmv": gmv[p][r]}
            for p in (0, 1)
            for r in range(3)
        ]
    )
    table = paired_table(runs, ["first", "second"], ["gmv"])
    mean, low, high = mean_ci(np.array([10.0, 12.0, 9.0]))
    assert table.loc["GMV, net of fakes and refunds (RMB)", "B − A (paired 95% CI)"] == (
        f"+{mean:,.2f} (+{low:,.2f} to +{high:,.2f})"
    )


def test_compare_a_scenario_with_a_change_in_one_command(tmp_path, capsys):
    argv = [
        "compare",
        PYRAMID,
        "--change",
        "commission.recruiting_bonus=[]",
        "--change",
        "tiers.0.direct_rate=0.2",
        "--replicates",
        "3",
        "--set",
        "population.size=1500",
        "--steps",
        "60",
        "--metrics",
        "ever_members,recruitment_reward_share,criminal_threshold_trees",
        "--quiet",
        "--out",
        str(tmp_path / "cmp"),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "B: pyramid with commission.recruiting_bonus=[]; tiers.0.direct_rate=0.2" in out
    table = pd.read_csv(tmp_path / "cmp" / "tables" / "comparison.csv", index_col=0)
    assert table.loc["recruitment reward share (share)", "B − A (paired 95% CI)"].startswith("-")
    runs = pd.read_parquet(tmp_path / "cmp" / "runs" / "runs.parquet")
    assert len(runs) == 6 and runs.groupby("replicate")["seed"].nunique().eq(1).all()


CHANGE = ["--change", "commission.entry_fee=0.0"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([*CHANGE, "--metrics", "gmv,nonsense"], "--metrics: nonsense: not a metric"),
        ([*CHANGE, "--replicates", "1"], "at least 2"),
        ([], "give at least one KEY=VALUE"),
        (["--change", "tiers.3.direct_rate=0.2"], "no entry '3'"),
    ],
)
def test_compare_refuses_what_it_cannot_answer(extra, message, tmp_path, capsys):
    argv = ["compare", PYRAMID, *extra, "--quiet", "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_compare_several_scenarios_on_the_same_seeds(tmp_path, capsys):
    files = [str(SCENARIOS / "schemes" / f"{name}.toml") for name in ("affiliate", "two_level")]
    argv = ["compare", *files, "--replicates", "2", "--set", "population.size=800"]
    argv += ["--steps", "20", "--metrics", "ever_members,fee_revenue", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "A: affiliate" in out and "B: two_level" in out
    table = pd.read_csv(tmp_path / "c" / "tables" / "comparison.csv", index_col=0)
    assert list(table.columns) == ["affiliate", "two_level", "B − A (paired 95% CI)"]
    seeds = [
        pd.read_parquet(next((tmp_path / "c" / "runs").glob(f"{i}-*")) / "runs.parquet")["seed"]
        for i in (0, 1)
    ]
    assert list(seeds[0]) == list(seeds[1])
    mixed = ["compare", files[0], str(tmp_path), "--out", str(tmp_path / "m")]
    assert main(mixed) == 2
