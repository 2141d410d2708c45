"""A sweep's report: Markdown tables and plots of metrics against the varied parameters,
with confidence bands, paired differences and sensitivity indices."""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simulation.experiments import analysis, sensitivity
from simulation.experiments.design import Design
from simulation.model import METRICS
from simulation.scenario import ScenarioError
from simulation.scenario.reference import keys
from simulation.viz.tables import (
    labelled,
    markdown_table,
    readable,
    readable_summary,
    signed_interval,
)

MAX_LINES = 8
RUN_FIGURES = {m.name: m for m in METRICS if m.kind != "daily"}
SUMMARY_COLUMNS = ("point", "metric", "n", "mean", "ci_low", "ci_high")


def metric_plot(summary: pd.DataFrame, parameter: str, metric: str, path: Path) -> None:
    """`metric` against `parameter`, one line per combination of the other parameters
    (at most eight), each with its 95% confidence band."""
    table = summary[summary["metric"] == metric]
    others = [c for c in table.columns if c not in (*SUMMARY_COLUMNS, parameter)]
    numeric = pd.api.types.is_numeric_dtype(table[parameter])
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    groups = list(table.groupby(others, sort=True)) if others else [("all", table)]
    for label, group in groups[:MAX_LINES]:
        group = group.sort_values(parameter) if numeric else group
        x = group[parameter] if numeric else group[parameter].astype(str)
        line = ax.plot(x, group["mean"], marker="o", label=legend_label(others, label))[0]
        ax.fill_between(x, group["ci_low"], group["ci_high"], alpha=0.2, color=line.get_color())
    ax.set_xlabel(parameter_label(parameter))
    ax.set_ylabel(axis_label(metric))
    known = RUN_FIGURES.get(metric)
    ax.set_title(f"{known.label if known else metric} by {parameter} (mean, 95% CI)")
    ax.grid(alpha=0.3)
    if others:
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def parameter_label(key: str) -> str:
    """A varied key with its meaning from the schema, e.g. `population.size: people on
    the social graph` (list entries by their index: `tiers.0.direct_rate`)."""
    generic = ".".join("N" if part.isdigit() else part for part in key.split("."))
    meaning = next((row["meaning"] for row in keys() if row["key"] == generic), "")
    return f"{key}: {meaning}" if meaning else key


def legend_label(keys: list[str], values: object) -> str:
    """`key = value` for each other parameter of a line, e.g. `population.size = 5000`."""
    values = values if isinstance(values, tuple) else (values,)
    return ", ".join(
        f"{key} = {analysis.scalar(value)}" for key, value in zip(keys, values, strict=False)
    )


def axis_label(metric: str) -> str:
    """The metric's label and unit as declared (its name if it has no declaration)."""
    known = RUN_FIGURES.get(metric)
    return f"{known.label} ({known.unit})" if known else metric


def sensitivity_plot(indices: pd.DataFrame, metric: str, path: Path) -> None:
    """Bars of Sobol' S1 and ST (or Morris μ* and σ) per parameter, with confidence."""
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    x = np.arange(len(indices))
    if "S1" in indices:
        ax.bar(x - 0.2, indices["S1"], 0.4, yerr=indices["S1_conf"], label="first order S1")
        ax.bar(x + 0.2, indices["ST"], 0.4, yerr=indices["ST_conf"], label="total ST")
    else:
        ax.bar(x - 0.2, indices["mu_star"], 0.4, yerr=indices["mu_star_conf"], label="μ*")
        ax.bar(x + 0.2, indices["sigma"], 0.4, label="σ")
    ax.set_xticks(x, indices["parameter"], rotation=20, ha="right")
    ax.set_title(f"Sensitivity of {metric}")
    ax.legend()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def differences_table(runs: pd.DataFrame, metrics: list[str], reference: int) -> pd.DataFrame:
    """Each point's paired difference from the reference point, metric by metric, in
    the metric's unit with its 95% interval."""
    declared = {m.name: m for m in METRICS}
    columns = {}
    for name in metrics:
        metric = declared[name]
        diffs = analysis.paired_differences(runs, name, reference).set_index("point")
        columns[labelled(metric)] = {
            point: signed_interval(metric, row.difference, row.paired_ci_low, row.paired_ci_high)
            for point, row in diffs.iterrows()
        }
    return pd.DataFrame(columns).rename_axis(f"point − point {reference}")


def write_report(
    runs: pd.DataFrame,
    design: Design,
    manifest: dict,
    folder: Path,
    metrics: list[str] | None = None,
    reference: int = 0,
) -> Path:
    """Write report.md and its plots into `folder` (the given metrics, or the key ones;
    paired differences from the `reference` point); return the Markdown file."""
    if not 0 <= reference < len(design.points):
        raise ScenarioError(
            "--reference", None, f"no point {reference}: the design has {len(design.points)}"
        )
    folder.mkdir(parents=True, exist_ok=True)
    parameters = design.parameters
    summary = analysis.point_summary(runs, parameters, metrics)
    metrics = list(dict.fromkeys(summary["metric"])) if not summary.empty else []
    failed = runs[runs["status"] != "done"]
    lines = [
        f"# Sweep report: {manifest['scenario']['name']}",
        "",
        f"- scenario hash `{manifest['scenario_hash']}`, design `{design.method}`, "
        f"{len(design.points)} points × {manifest['replicates']} replicates = {len(runs)} runs",
        f"- completed {len(runs) - len(failed)}, failed {len(failed)}",
        "",
        "## Mean and 95% confidence interval per point",
        "",
    ]
    shown = summary.assign(**{p: summary[p].map(analysis.scalar) for p in parameters})
    table = readable_summary(shown, parameters).reset_index().set_index("point")
    lines += [markdown_table(table), ""]
    if design.method in ("factorial", "variants") and len(design.points) > 1:
        lines += [
            f"## Paired differences from point {reference} (common random numbers)",
            "",
            markdown_table(differences_table(runs, metrics, reference)),
            "",
        ]
    if design.method == "factorial" and len(parameters) > 1:
        lines += ["## Main effects (mean over the other parameters' levels)", ""]
        for parameter in parameters:
            effects = analysis.main_effects(runs, design, parameter, metrics)
            declared = {m.name: m for m in METRICS}
            shown = pd.DataFrame(
                {
                    labelled(declared[name]): effects[name].map(
                        lambda value, metric=declared[name]: readable(metric, value)
                    )
                    for name in metrics
                }
            )
            lines += [f"### {parameter}", "", markdown_table(shown), ""]
        lines += ["## Interactions (mean of each pair of levels)", ""]
        declared = {m.name: m for m in METRICS}
        for first, second in itertools.combinations(parameters, 2):
            for name in metrics:
                table = analysis.interaction(runs, design, first, second, name)
                shown = table.map(lambda value, m=declared[name]: readable(m, value))
                lines += [
                    f"### {labelled(declared[name])}: {first} (rows) × {second} (columns)",
                    "",
                    markdown_table(shown),
                    "",
                ]
    if parameters and len(design.points) > 1 and design.method != "morris":
        lines += ["## Metrics against parameters", ""]
        for parameter in parameters:
            for metric in metrics:
                name = f"{metric}_by_{parameter}.png".replace("/", "_")
                metric_plot(summary, parameter, metric, folder / name)
                lines.append(f"![{metric} by {parameter}]({name})")
        lines.append("")
    if design.method in ("sobol", "morris"):
        lines += ["## Sensitivity", ""]
        for metric in metrics:
            indices = sensitivity.analyse(design, analysis.point_means(runs, metric))
            name = f"sensitivity_{metric}.png"
            sensitivity_plot(indices, metric, folder / name)
            lines += [
                f"### {metric}",
                "",
                markdown_table(indices.set_index("parameter").round(4)),
                f"![sensitivity of {metric}]({name})",
                "",
            ]
    if len(failed):
        lines += [
            "## Failed runs",
            "",
            markdown_table(failed.set_index("run_key")[["point", "replicate", "error"]]),
            "",
        ]
    report = folder / "report.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    return report
