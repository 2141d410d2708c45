"""`sharelab run`: results on success; one line, exit 2 and nothing written on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from simulation.cli import main
from simulation.model import METRICS
from tests.conftest import SCENARIOS

SMALL = ["--set", "population.size=1500", "--steps", "40", "--quiet"]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def written(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_run_writes_results_and_prints_a_summary(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(SCENARIOS / "baseline.toml"), *SMALL, "--out", str(out)]) == 0
    names = {p.name for p in written(out)}
    assert names == {
        "timeseries.parquet",
        "summary.json",
        "scenario.toml",
        "growth.png",
        "compliance.png",
    }
    table = pd.read_parquet(out / "timeseries.parquet")
    assert list(table.columns) == [m.name for m in METRICS if m.kind != "final"]
    assert len(table) == 40
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 42 and summary["days"] == 40 and summary["people"] == 1500
    assert summary["versions"]["mesa"].startswith("3.")
    for key in (
        "recruitment_reward_share",
        "entry_fee_share",
        "paid_depth",
        "loss_fraction",
        "income_gini",
        "peak_join_day",
        "final_penetration",
        "scenario_hash",
    ):
        assert key in summary
    assert isinstance(summary["flags"], list)
    printed = capsys.readouterr().out
    assert "final penetration" in printed and "income Gini" in printed and "Flags (" in printed
    assert not list(tmp_path.glob(".*partial*"))


def test_default_folder_is_results_scenario_run_id(tmp_path):
    assert main(["run", str(SCENARIOS / "baseline.toml"), *SMALL, "--seed", "9"]) == 0
    (run_dir,) = (tmp_path / "results" / "baseline").iterdir()
    assert run_dir.name.endswith("-seed9")


def test_resolved_scenario_reruns_identically(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert main(["run", str(SCENARIOS / "baseline.toml"), *SMALL, "--out", str(first)]) == 0
    assert main(["run", str(first / "scenario.toml"), "--quiet", "--out", str(second)]) == 0
    pd.testing.assert_frame_equal(
        pd.read_parquet(first / "timeseries.parquet"),
        pd.read_parquet(second / "timeseries.parquet"),
    )
    other = tmp_path / "c"
    assert (
        main(["run", str(SCENARIOS / "baseline.toml"), *SMALL, "--seed", "1", "--out", str(other)])
        == 0
    )
    assert not pd.read_parquet(other / "timeseries.parquet").equals(
        pd.read_parquet(first / "timeseries.parquet")
    )


def bad(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


BAD_INPUTS = {
    "unknown key": (
        lambda t: [bad(t, "s.toml", "[population]\ncolour = 1\n")],
        "population.colour: unknown key",
    ),
    "wrong type": (lambda t: [bad(t, "s.toml", '[run]\nsteps = "many"\n')], "run.steps"),
    "negative size": (lambda t: [bad(t, "s.toml", "[population]\nsize = -3\n")], "population.size"),
    "probability above 1": (
        lambda t: [bad(t, "s.toml", "[platform]\norganic_join_prob = 2.0\n")],
        "platform.organic_join_prob",
    ),
    "missing file": (lambda t: [str(t / "absent.toml")], "no such scenario file"),
    "TOML syntax": (lambda t: [bad(t, "s.toml", "[run\nsteps = 3\n")], "TOML syntax error"),
    "extends cycle": (lambda t: [bad(t, "s.toml", 'extends = "s.toml"\n')], "extends: cycle"),
    "bad --set value": (
        lambda t: [str(SCENARIOS / "baseline.toml"), "--set", "trust.erosion=1.5"],
        "--set: trust.erosion",
    ),
    "bad --set key": (
        lambda t: [str(SCENARIOS / "baseline.toml"), "--set", "trust.nonsense=1"],
        "--set: trust.nonsense: unknown key",
    ),
    "malformed --set": (
        lambda t: [str(SCENARIOS / "baseline.toml"), "--set", "trust"],
        "section.key=value",
    ),
    "negative --steps": (lambda t: [str(SCENARIOS / "baseline.toml"), "--steps", "-5"], "--steps"),
    "edge list of another size": (
        lambda t: [
            bad(
                t,
                "s.toml",
                '[graph]\nkind = "edgelist"\npath = "g.txt"\n'
                "[population]\nsize = 10\ninitial_members = 1\n",
            )
        ],
        "population.size is 10",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, case):
    (tmp_path / "g.txt").write_text("0 1\n1 2\n")
    make_args, words = BAD_INPUTS[case]
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_:
        raise SystemExit(main(["run", *make_args(tmp_path), "--quiet", "--out", str(out)]))
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sharelab: error:")
    assert words in err
    assert "Traceback" not in err
    assert not out.exists() and not (tmp_path / "results").exists()


def test_a_non_empty_out_folder_is_never_overwritten(tmp_path, capsys):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["run", str(SCENARIOS / "baseline.toml"), *SMALL, "--out", str(out)]) == 2
    assert (out / "keep.txt").read_text() == "mine" and len(written(out)) == 1
    assert "not empty" in capsys.readouterr().err


def test_audit_prints_a_table_or_json(capsys):
    assert main(["audit", str(SCENARIOS / "schemes" / "pyramid.toml")]) == 0
    assert "headcount-based pay" in capsys.readouterr().out
    assert main(["audit", str(SCENARIOS / "schemes" / "geometric.toml"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["paid_depth"] == 8
    assert report["sybil_gain_per_100_rmb"] == pytest.approx(5.0)
    args = ["audit", str(SCENARIOS / "baseline.toml"), "--set", "commission.entry_fee=-1"]
    assert main(args) == 2
    assert "commission.entry_fee" in capsys.readouterr().err


def test_compare_writes_csv_and_markdown(tmp_path, capsys):
    runs = []
    for name in ("affiliate", "pyramid"):
        out = tmp_path / name
        args = ["run", str(SCENARIOS / "schemes" / f"{name}.toml"), *SMALL, "--out", str(out)]
        assert main(args) == 0
        runs.append(str(out))
    capsys.readouterr()
    assert main(["compare", *runs, "--out", str(tmp_path / "cmp")]) == 0
    printed = capsys.readouterr().out
    assert "affiliate" in printed and "pyramid" in printed and "flags" in printed
    table = pd.read_csv(tmp_path / "cmp" / "comparison.csv", index_col=0)
    changes = "with population.size=1500; run.steps=40"
    assert list(table.columns) == [f"affiliate {changes}", f"pyramid {changes}"]
    assert table.loc["fees (RMB)", f"affiliate {changes}"] == "0.00"
    markdown = (tmp_path / "cmp" / "comparison.md").read_text()
    assert markdown.startswith(f"|  | affiliate {changes} | pyramid {changes} |")


def test_two_variants_of_one_preset_are_told_apart(tmp_path, capsys):
    runs = []
    for fee in ("100.0", "200.0"):
        out = tmp_path / fee
        scenario = str(SCENARIOS / "schemes" / "pyramid.toml")
        args = ["run", scenario, *SMALL, "--set", f"commission.entry_fee={fee}", "--out", str(out)]
        assert main(args) == 0
        runs.append(str(out))
    capsys.readouterr()
    assert main(["compare", *runs, "--out", str(tmp_path / "cmp")]) == 0
    table = pd.read_csv(tmp_path / "cmp" / "comparison.csv", index_col=0)
    assert [
        c.endswith(f"commission.entry_fee={fee}; run.steps=40")
        for c, fee in zip(table.columns, ("100.0", "200.0"), strict=True)
    ] == [True, True]


def test_compare_of_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["compare", str(tmp_path)]) == 2
    assert "no summary.json" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()
