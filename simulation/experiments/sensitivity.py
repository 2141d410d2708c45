"""Global sensitivity analysis with SALib, on the design that drew the points.

Sobol' gives first-order and total indices with confidence intervals; Morris gives
μ* (overall influence) and σ (interactions and non-linearity).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.experiments.design import MORRIS_LEVELS, Design
from simulation.scenario import ScenarioError


def analyse(design: Design, outputs: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """One row per parameter with its indices; `outputs` holds one value per point."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if np.isnan(outputs).any():
        raise ValueError("every point needs an output; some runs failed or are missing")
    from SALib.analyze import morris, sobol  # here: SALib and SciPy's stats load slowly

    problem = design.problem
    if design.method == "sobol":
        found = sobol.analyze(problem, outputs, calc_second_order=True, seed=seed)
        return pd.DataFrame(
            {
                "parameter": problem["names"],
                "S1": found["S1"],
                "S1_conf": found["S1_conf"],
                "ST": found["ST"],
                "ST_conf": found["ST_conf"],
            }
        )
    if design.method == "morris":
        matrix = design.points[problem["names"]].to_numpy(dtype=np.float64)
        found = morris.analyze(problem, matrix, outputs, num_levels=MORRIS_LEVELS, seed=seed)
        return pd.DataFrame(
            {
                "parameter": problem["names"],
                "mu_star": found["mu_star"],
                "mu_star_conf": found["mu_star_conf"],
                "sigma": found["sigma"],
            }
        )
    raise ScenarioError("--sample", design.method, "sensitivity needs a sobol or morris design")
