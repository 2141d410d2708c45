"""Text tables for the terminal and for reports: a run's summary, and runs side by side."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from simulation.experiments.analysis import mean_ci, paired_differences
from simulation.mechanisms.base import GROUPS, Metric
from simulation.mechanisms.compliance import RULES
from simulation.model import METRICS


def summary_rows(metrics: tuple[Metric, ...] = METRICS) -> tuple:
    """(label, key, format) rows of the summary table, from the metric declarations: the
    run's final and cumulative figures, grouped (Growth, Economics, Compliance), in the
    order declared."""
    shown = [m for m in metrics if m.kind != "daily"]
    rows: list[tuple] = []
    for group in GROUPS:
        rows.append((group, None, None))
        rows += [(m.label, m.name, m.fmt) for m in shown if m.group == group]
    return tuple(rows)


SUMMARY_ROWS = summary_rows()
DECLARED = {m.name: m for m in METRICS}
THIRD = 18  # width of a third column
NOT_APPLICABLE = "n/a"

AUDIT_ROWS = (
    ("Scheme", None, None),
    ("entry fee (RMB)", "entry_fee", "{:,.2f}"),
    ("mandatory package", "mandatory_package", "{}"),
    ("package cost of goods (RMB)", "package_cost", "{:,.2f}"),
    ("renewal fees per 30 days (RMB)", "renewal_fee_per_30_days", "{:,.2f}"),
    ("paid depth (levels above a sale)", "paid_depth", "{}"),
    ("most uplines paid team pay on a sale", "team_recipients_per_sale", "{}"),
    ("differential (级差)", "differential", "{}"),
    ("headcount-based pay", "headcount_pay", "{}"),
    ("recruiting bonuses per recruit (RMB)", "recruiting_bonus_total", "{:,.2f}"),
    ("most paid out on one sale", "max_payout_share_of_sale", "{:.1%}"),
    ("most pay as share of own sales", "max_pay_share_of_own_sales", "{:.1%}"),
    ("can exceed 30% of own sales (Art. 24)", "exceeds_direct_selling_cap", "{}"),
    ("Sybil gain per RMB 100 of own purchases", "sybil_gain_per_100_rmb", "{:,.2f}"),
    ("Sybil gain per fake enrolment (RMB)", "sybil_enrolment_gain", "{:,.2f}"),
)


def two_columns(
    title: str,
    rows: tuple,
    values: dict[str, Any],
    none: str = "unbounded",
    third: Callable[[str, Any], str] | None = None,
) -> list[str]:
    """Rows of (label, key, format) as an aligned table under `title`; a row with no
    key starts a section; a value of None reads `none`. `third(key, value)`, if given,
    is a third column (empty text for none) of width THIRD."""
    width = max(len(label) for label, _, _ in rows)
    rule = "-" * (width + 16 + (THIRD + 2 if third else 0))
    lines = [title]
    for label, key, fmt in rows:
        if key is None:
            lines += ["", label, rule]
            continue
        value = values[key]
        shown = none if value is None else fmt.format(value)
        line = f"{label:<{width}}  {shown:>14}"
        extra = third(key, value) if third else ""
        lines.append(line + (f"  {extra:>{THIRD}}" if extra else ""))
    return lines


def format_audit(report: dict[str, Any]) -> str:
    """The audit of a scheme as an aligned two-column table."""
    return "\n".join(two_columns(f"audit of {report['scheme']}", AUDIT_ROWS, report))


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as an aligned two-column table, grouped by theme, then the flags."""
    label = summary.get("label", summary["scenario"])
    title = f"{label} · seed {summary['seed']} · hash {summary['scenario_hash']}"
    scale = summary.get("scale", 1.0)
    if scale == 1.0:
        lines = two_columns(title, SUMMARY_ROWS, summary, none=NOT_APPLICABLE)
    else:
        title += f"  (real units: × {scale:,.6g} people each)"
        lines = two_columns(
            title,
            SUMMARY_ROWS,
            summary,
            NOT_APPLICABLE,
            lambda key, v: in_real_units(key, v, scale),
        )
    lines += ["", f"Flags ({len(summary['flags'])})", "-" * 40]
    for flag in summary["flags"]:
        lines.append(
            f"[{flag['severity']}] {flag['rule']}: {flag['indicator']} = {flag['value']:.3g} "
            f"({flag['threshold']}; applies to {flag['applies']}) — {flag['source']}"
        )
    return "\n".join(lines)


def in_real_units(key: str, value: Any, scale: float) -> str:
    """A summary figure × `scale` (population.scale) if it counts people, orders or
    shares or sums money over everyone, else empty text."""
    metric = DECLARED.get(key)
    if metric is None or not metric.extensive or value is None:
        return ""
    return readable(metric, value * scale)


def comparison_table(summaries: list[dict[str, Any]], names: list[str]) -> pd.DataFrame:
    """One row per summary metric, one column per run, values formatted for reading."""
    rows = {}
    for label, key, fmt in SUMMARY_ROWS:
        if key is not None:
            rows[label] = [
                NOT_APPLICABLE if s[key] is None else fmt.format(s[key]) for s in summaries
            ]
    rows["flags"] = [
        ", ".join(sorted({f["rule"] for f in s["flags"]})) or "none" for s in summaries
    ]
    return pd.DataFrame.from_dict(rows, orient="index", columns=names)


COMPARED = tuple(
    dict.fromkeys(
        (
            "ever_members",
            "members",
            "bass_p",
            "bass_q",
            "retention_90",
            "gmv",
            "platform_margin",
            "commissions_paid",
            "fee_revenue",
            "payout_ratio",
            "brushed_order_share",
            *(rule.indicator for rule in RULES),
            "loss_fraction_at_retail",
            "loss_fraction_at_cost",
        )
    )
)
COUNTS = ("people", "orders", "trees", "levels", "customers", "shares", "days")


def readable(metric: Metric, value: float, signed: bool = False) -> str:
    """A value in its metric's unit, for reading: shares as %, (differences of shares in
    percentage points), money in RMB with K and M, counts with thousands separators."""
    if value is None or value != value:
        return NOT_APPLICABLE
    sign = "+" if signed and value > 0 else ""
    if metric.unit == "share":
        return f"{sign}{100 * value:.1f} pp" if signed else metric.fmt.format(value)
    if metric.unit == "RMB":
        if abs(value) >= 1e6:
            return f"{sign}{value / 1e6:,.2f} M"
        if abs(value) >= 1e4:
            return f"{sign}{value / 1e3:,.1f} K"
        return f"{sign}{value:,.2f}"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{sign}{value:,.0f}"
    return f"{sign}{value:,.2f}"


def with_interval(metric: Metric, mean: float, low: float, high: float) -> str:
    """A mean and its 95% interval, the interval cut at 0 for metrics that cannot be
    negative (shares, counts); the mean alone where there is no interval."""
    if metric.unit == "share" or metric.unit in COUNTS:
        low = max(low, 0.0)
    shown = readable(metric, mean)
    if low != low or high != high or low == high:
        return shown
    return f"{shown} ({readable(metric, low)} to {readable(metric, high)})"


def signed_interval(metric: Metric, mean: float, low: float, high: float) -> str:
    """A difference with its 95% interval, signed, in the metric's unit (shares in
    percentage points)."""
    shown = readable(metric, mean, signed=True)
    if low != low or high != high:
        return shown
    return f"{shown} ({readable(metric, low, True)} to {readable(metric, high, True)})"


def paired_table(
    runs: pd.DataFrame, names: list[str], metrics: list[str] | None = None
) -> pd.DataFrame:
    """Points 0, 1, … of a sweep side by side over their replicates, metric by metric:
    each one's mean with its 95% interval, then each later point's difference from
    point 0 with the 95% interval of the paired difference (common random numbers)."""
    letters = [chr(ord("A") + point) for point in range(len(names))]
    rows = {}
    for name in metrics or COMPARED:
        metric = DECLARED[name]
        cells = []
        for point in range(len(names)):
            values = runs.loc[(runs["point"] == point) & (runs["status"] == "done"), name]
            cells.append(with_interval(metric, *mean_ci(values.dropna().to_numpy())))
        for row in paired_differences(runs, name).itertuples():
            cells.append(
                signed_interval(metric, row.difference, row.paired_ci_low, row.paired_ci_high)
            )
        rows[labelled(metric)] = cells
    differences = [f"{letter} − A (paired 95% CI)" for letter in letters[1:]]
    return pd.DataFrame.from_dict(rows, orient="index", columns=[*letters, *differences])


def readable_summary(summary: pd.DataFrame, parameters: list[str]) -> pd.DataFrame:
    """A sweep's per-point summary (`analysis.point_summary`) for reading: one row per
    point with its parameter values, one column per metric (label and unit), each cell
    the mean with its 95% interval in the metric's unit."""
    if summary.empty:
        return pd.DataFrame()
    cells = summary.assign(
        cell=[
            with_interval(DECLARED[row.metric], row.mean, row.ci_low, row.ci_high)
            for row in summary.itertuples()
        ],
        label=[labelled(DECLARED[name]) for name in summary["metric"]],
    )
    order = list(dict.fromkeys(cells["label"]))
    wide = cells.pivot_table(
        index=["point", *parameters], columns="label", values="cell", aggfunc="first"
    )
    return wide[order].rename_axis(columns=None)


def labelled(metric: Metric) -> str:
    """A metric's label with its unit, unless the label already says it."""
    return metric.label if f"({metric.unit})" in metric.label else f"{metric.label} ({metric.unit})"


def metrics_markdown(metrics: tuple[Metric, ...]) -> str:
    """The metric declarations as a Markdown table: name, label, unit, definition."""
    lines = ["| name | label | unit | definition |", "| --- | --- | --- | --- |"]
    lines += [f"| `{m.name}` | {m.label} | {m.unit} | {m.definition} |" for m in metrics]
    return "\n".join(lines) + "\n"


def markdown_table(table: pd.DataFrame) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table, index as the first column."""
    header = ["", *map(str, table.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, row in table.iterrows():
        cells = [str(label), *(str(value).replace("|", "/") for value in row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def target_table(targets: pd.DataFrame) -> pd.DataFrame:
    """A calibration's targets for reading: each reported figure, the model's mean with
    its 95% interval over replicates, the relative error, and whether it was fitted."""
    rows = []
    for row in targets.itertuples():
        interval = (
            f" ({max(row.ci_low, 0):,.4g} to {row.ci_high:,.4g})"
            if row.ci_low == row.ci_low
            else ""
        )
        rows.append(
            {
                "target": row.metric,
                "day": row.day,
                "period": "" if row.period != row.period or row.period is None else int(row.period),
                "reported": f"{row.value:,.4g}",
                "model mean (95% CI)": f"{row.model_mean:,.4g}{interval}",
                "error": f"{row.error:+.1%}" if row.error == row.error else NOT_APPLICABLE,
                "fitted": "yes" if row.fit else "no (held out)",
            }
        )
    return pd.DataFrame(rows)


def candidate_table(
    front: pd.DataFrame, levers: list[str], objectives: list[str], top: int = 10
) -> pd.DataFrame:
    """The first `top` candidates of a feasible front (best first), for reading: rank,
    trial, lever values, and each objective's mean with its 95% interval in its unit."""
    rows = []
    for rank, row in enumerate(front.head(top).to_dict("records"), start=1):
        cells: dict[str, Any] = {"rank": rank, "trial": row["trial"]}
        cells |= {key: row[key] for key in levers}
        for name in objectives:
            mean, low, high = (row[name], row[f"{name}_ci_low"], row[f"{name}_ci_high"])
            metric = DECLARED.get(name)
            cells[labelled(metric) if metric else name] = (
                with_interval(metric, mean, low, high)
                if metric
                else f"{mean:.4g} ({low:.4g} to {high:.4g})"
            )
        rows.append(cells)
    return pd.DataFrame(rows)
