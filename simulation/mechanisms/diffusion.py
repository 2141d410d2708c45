"""Diffusion summaries of a run, as an analyst fits them to a platform's reports: the
Bass model of the members curve (Bosley & McKeage fitted FHTM's so) and retention of
joiners after 30, 90 and 180 days (§7.9)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

from simulation.mechanisms.base import Day, Host, Mechanism, Metric
from simulation.world.people import NEVER, People

HORIZONS = (30, 90, 180)
MONTH = 30
MIN_JOINERS = 10  # fewer joiners than this leave the Bass fit undetermined


def bass_cumulative(t: np.ndarray, p: float, q: float, m: float) -> np.ndarray:
    """Cumulative adopters of the Bass model by time t: m·(1 − e^{−(p+q)t}) /
    (1 + (q/p)·e^{−(p+q)t})."""
    decay = np.exp(-(p + q) * t)
    return m * (1 - decay) / (1 + (q / p) * decay)


def bass_fit(cumulative: np.ndarray) -> dict[str, float] | None:
    """Least-squares Bass fit of cumulative joiners by day (day 0 first): p, q, m and
    their standard errors; None when too few joined or the fit does not converge."""
    days = np.arange(cumulative.size, dtype=np.float64)
    last = float(cumulative[-1]) if cumulative.size else 0.0
    if last < MIN_JOINERS or cumulative.size < 4:
        return None
    try:
        values, covariance = curve_fit(
            bass_cumulative,
            days,
            cumulative.astype(np.float64),
            p0=(0.01, 0.1, 1.2 * last),
            bounds=((1e-7, 0.0, last), (1.0, 5.0, 1e3 * last + 1)),
            maxfev=20_000,
        )
    except (RuntimeError, ValueError):
        return None
    errors = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    names = ("bass_p", "bass_q", "bass_m")
    return dict(zip(names, values.tolist(), strict=True)) | {
        f"{name}_se": float(error) for name, error in zip(names, errors, strict=True)
    }


def retention(people: People, today: int, horizon: int) -> float | None:
    """Among members who joined after day 0 early enough to be seen `horizon` days on,
    the share still a member `horizon` days after joining; None if nobody can be."""
    joined, left = people.joined_day, people.left_day
    seen = (joined > 0) & (joined + horizon <= today)
    if not seen.any():
        return None
    stayed = (left[seen] == NEVER) | (left[seen] > joined[seen] + horizon)
    return float(stayed.mean())


def retention_by_cohort(people: People, today: int) -> pd.DataFrame:
    """One row per monthly cohort of joiners (days 1–30, 31–60, …): its size and the
    share still a member 30, 90 and 180 days after joining (NaN where not yet seen)."""
    joined, left = people.joined_day, people.left_day
    rows = []
    for start in range(1, today + 1, MONTH):
        cohort = (joined >= start) & (joined < start + MONTH)
        row: dict[str, Any] = {"first_day": start, "joiners": int(cohort.sum())}
        for horizon in HORIZONS:
            seen = cohort & (joined + horizon <= today)
            stayed = (left[seen] == NEVER) | (left[seen] > joined[seen] + horizon)
            row[f"retained_{horizon}"] = float(stayed.mean()) if seen.any() else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def _final(name: str, label: str, unit: str, fmt: str, definition: str) -> Metric:
    return Metric(name, label, unit, fmt, definition, "final", "Growth")


class Diffusion(Mechanism):
    """Reports, at the end of a run, the Bass fit of cumulative joiners and the share of
    joiners still members 30, 90 and 180 days on."""

    name = "diffusion"
    metrics = (
        _final(
            "bass_p",
            "Bass innovation p",
            "per day",
            "{:.4g}",
            "innovation coefficient "
            "of the least-squares Bass fit to cumulative joiners by day (founders left out)",
        ),
        _final(
            "bass_p_se",
            "Bass p, standard error",
            "per day",
            "{:.2g}",
            "standard error of bass_p (from the fit's covariance)",
        ),
        _final(
            "bass_q",
            "Bass imitation q",
            "per day",
            "{:.4g}",
            "imitation coefficient of the Bass fit",
        ),
        _final(
            "bass_q_se", "Bass q, standard error", "per day", "{:.2g}", "standard error of bass_q"
        ),
        _final(
            "bass_m",
            "Bass market potential m",
            "people",
            "{:,.0f}",
            "joiners the Bass fit expects in all; n/a with fewer than 10 joiners or no convergence",
        ),
        _final(
            "bass_m_se", "Bass m, standard error", "people", "{:,.0f}", "standard error of bass_m"
        ),
    ) + tuple(
        _final(
            f"retention_{horizon}",
            f"joiners still members after {horizon} days",
            "share",
            "{:.1%}",
            f"among joiners after day 0 who joined at least {horizon} days before the end, "
            f"the share still a member {horizon} days after joining",
        )
        for horizon in HORIZONS
    )

    def __init__(self, host: Host) -> None:
        self.day = 0
        super().__init__(host)

    def step(self, day: Day) -> None:
        self.day = day.number

    def final(self) -> dict[str, Any]:
        people, today = self.people, self.day
        joined = people.joined_day[people.ever_members]
        joiners = np.bincount(joined[joined > 0], minlength=today + 1)[: today + 1]
        fit = bass_fit(np.cumsum(joiners))
        names = [m.name for m in self.metrics if m.name.startswith("bass")]
        return (fit or dict.fromkeys(names)) | {
            f"retention_{horizon}": retention(people, today, horizon) for horizon in HORIZONS
        }
