"""Regression set: every shipped scenario at 2,000 people gives the recorded results.

Each file in `tests/regression/` holds one scenario's summary and daily time series
(its own `run.steps`, its own seed). The test fails when a change, a library upgrade
or another Python changes any figure, so a refactor can show it changed nothing and
CI shows the results do not depend on the stack (Python 3.11 with Mesa 3.3 and the
newest Python with Mesa 3.5 must both match). Floats are compared to 1e-12 relative,
which tolerates last-bit differences between CPUs but no change of behaviour.

The set is rewritten only deliberately, with the reason in the commit:
`python tests/test_regression.py --write`.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from simulation import SocialCommerceModel, load_scenario

ROOT = Path(__file__).resolve().parents[1]
RECORDED = Path(__file__).resolve().parent / "regression"
PEOPLE = 2000
SCENARIOS = sorted((ROOT / "scenarios").rglob("*.toml"))


def record_name(path: Path) -> str:
    """`schemes/pyramid.toml` → `schemes__pyramid.json`."""
    return "__".join(path.relative_to(ROOT / "scenarios").with_suffix(".json").parts)


def simulate(path: Path) -> dict[str, Any]:
    """The scenario's summary and time series at PEOPLE people, as plain JSON values."""
    model = SocialCommerceModel(load_scenario(path, overrides={"population.size": PEOPLE}))
    model.run()
    timeseries = model.datacollector.get_model_vars_dataframe()
    return json.loads(
        json.dumps(
            {
                "summary": model.summary(),
                "timeseries": {k: timeseries[k].tolist() for k in timeseries.columns},
            }
        )
    )


FITTED_TOLERANCE = 1e-6  # an optimiser's result may move in its last digits across SciPy


def differences(recorded: Any, now: Any, where: str = "") -> list[str]:
    """Where `now` differs from `recorded` (floats to 1e-12 relative, fitted Bass
    coefficients to 1e-6; NaN equals NaN)."""
    if isinstance(recorded, dict) and isinstance(now, dict):
        keys = sorted(set(recorded) | set(now))
        return [d for k in keys for d in differences(recorded.get(k), now.get(k), f"{where}.{k}")]
    if isinstance(recorded, list) and isinstance(now, list) and len(recorded) == len(now):
        pairs = enumerate(zip(recorded, now, strict=True))
        return [d for i, (a, b) in pairs for d in differences(a, b, f"{where}[{i}]")]
    if isinstance(recorded, float) and isinstance(now, float):
        both_nan = math.isnan(recorded) and math.isnan(now)
        tolerance = FITTED_TOLERANCE if where.split(".")[-1].startswith("bass_") else 1e-12
        same = both_nan or math.isclose(recorded, now, rel_tol=tolerance, abs_tol=1e-12)
        return [] if same else [f"{where}: recorded {recorded!r}, now {now!r}"]
    return (
        []
        if recorded == now and type(recorded) is type(now)
        else [f"{where}: recorded {recorded!r}, now {now!r}"]
    )


@pytest.mark.parametrize("path", SCENARIOS, ids=[record_name(p)[:-5] for p in SCENARIOS])
def test_scenario_results_are_as_recorded(path: Path) -> None:
    recorded = json.loads((RECORDED / record_name(path)).read_text(encoding="utf-8"))
    found = differences(recorded, simulate(path))
    assert not found, f"{len(found)} figures changed, first: " + "; ".join(found[:5])


def test_every_recorded_file_has_its_scenario() -> None:
    assert sorted(p.name for p in RECORDED.glob("*.json")) == sorted(map(record_name, SCENARIOS))


def test_a_changed_figure_is_reported() -> None:
    recorded = {"gmv": 1.0, "trust": math.nan, "orders": 3, "flags": [{"rule": "a"}]}
    assert differences(recorded, dict(recorded)) == []
    assert differences(recorded, recorded | {"gmv": 1.0 + 1e-9})
    assert differences(recorded, recorded | {"trust": 0.5})
    assert differences(recorded, recorded | {"orders": 3.0})
    assert differences(recorded, recorded | {"flags": []})


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    RECORDED.mkdir(exist_ok=True)
    for stale in RECORDED.glob("*.json"):
        stale.unlink()
    for scenario_path in SCENARIOS:
        text = json.dumps(simulate(scenario_path), indent=1, sort_keys=True) + "\n"
        (RECORDED / record_name(scenario_path)).write_text(text, encoding="utf-8")
        print("recorded", record_name(scenario_path))
