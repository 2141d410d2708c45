"""The live dashboard (`sharelab dashboard`): Mesa's SolaraViz on a scenario.

`solara run simulation.viz.dashboard` serves `Page`; the scenario file comes from the
environment (`SCENARIO_ENV`, and `--set` changes as JSON in `OVERRIDES_ENV`), as the
command sets it. Each browser session builds its own model (never one shared by all).

The sidebar's sliders are a few policy keys of the scenario, started at the file's
values; they take effect on Reset (a new run from day 0 with the values chosen).
A/B mode (a sidebar switch and a "B:" slider per policy knob) steps a second model,
policy B, beside the first on the same seed and world (common random numbers).
The panels: the compliance lights (each rule of `mechanisms.compliance.RULES`
against the run so far, from `model.summary()`), A against B, daily figures of the
run, and the network view (`viz.network`).
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import solara
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from mesa.visualization import SolaraViz

from simulation.mechanisms.compliance import RULES, SEVERITIES
from simulation.model import METRICS, SocialCommerceModel
from simulation.scenario import load_scenario, with_overrides
from simulation.scenario.schema import Scenario, scope_of
from simulation.viz import network
from simulation.viz.tables import DECLARED, readable

SCENARIO_ENV = "SHARELAB_DASHBOARD_SCENARIO"
OVERRIDES_ENV = "SHARELAB_DASHBOARD_OVERRIDES"
SOURCE = "the dashboard"
B_SOURCE = "the dashboard's policy B"
AB = "ab"  # the A/B switch's parameter
B = "b."  # prefix of policy B's knobs
MESA_OWN = ("scenario", "rng", "seed", "simulator")  # what Mesa itself may pass on Reset
LARGE_RUN = 10_000  # people: above this, Step and Play advance several days per redraw


@dataclass(frozen=True)
class Knob:
    """A scenario key shown as a slider (or a select of `choices`) from `low` to `high`."""

    key: str
    label: str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01
    choices: tuple[str, ...] = ()
    integer: bool = False


KNOBS = (
    Knob("commission.entry_fee", "entry fee (RMB)", 0.0, 1000.0, 5.0),
    Knob("tiers.0.direct_rate", "direct rate, entry tier", 0.0, 0.5, 0.01),
    Knob("commission.override_rates.0", "override rate, 1 level up", 0.0, 0.3, 0.01),
    Knob("commission.recruiting_bonus.0", "recruiting bonus, 1 level up (RMB)", 0.0, 500.0, 5.0),
    Knob("commission.payout_cap", "payout cap, share of GMV (0 = none)", 0.0, 1.0, 0.05),
    Knob("platform.audit_rate", "audit rate (share of orders)", 0.0, 1.0, 0.01),
    Knob("sharing.shares_per_day", "shares per member per day", 0.0, 20.0, 0.5),
    Knob("sharing.targeting", "share targeting", choices=("random", "matched")),
    Knob("content.effort_share", "effort on content (share; 0 = off)", 0.0, 1.0, 0.05),
    Knob("community.budget", "community budget (RMB a member a month)", 0.0, 50.0, 1.0),
    Knob("risk.targeting", "audit targeting", choices=("random", "score")),
    Knob("population.size", "people on the graph", 500, 40_000, 500, integer=True),
    Knob("run.seed", "seed", 0, 1000, 1, integer=True),
)

# B's knobs: the policy ones (the world and seed are A's, so both draw alike)
B_KNOBS = tuple(knob for knob in KNOBS if scope_of(knob.key) == "policy")

# (metrics on one chart, its title); daily columns of the model's datacollector
PANELS = (
    (("members",), "Members"),
    (("new_members", "churned_members"), "New and churned members per day"),
    (("gmv", "brushed_gmv"), "GMV per day (RMB; fake orders apart)"),
    (("platform_margin",), "Platform margin per day (RMB)"),
    (("payout_ratio", "brushed_order_share"), "Payout ratio and brushed order share"),
    (("mean_trust",), "Mean trust met by a share"),
)
LABELS = {m.name: m.label for m in METRICS if m.kind != "final"}
FORMATS = {m.name: m.fmt for m in METRICS if m.kind != "final"}
COLOURS = {"breached": "#d62728", "clear": "#2ca02c", "not applicable": "#9e9e9e"}
# the summary figures of the A/B panel (A's alone when A/B mode is off)
HEADLINES = (
    "members",
    "ever_members",
    "gmv",
    "platform_margin",
    "commissions_paid",
    "payout_ratio",
    "loss_fraction",
    "median_net_income",
    "criminal_threshold_trees",
)


def value_at(scenario: Scenario, key: str) -> Any:
    """The scenario's value of a dotted key (`tiers.0.direct_rate`); 0 for a level a
    list does not have (no override rate, no recruiting bonus)."""
    node: Any = scenario.model_dump(mode="json")
    for part in key.split("."):
        if isinstance(node, list):
            index = int(part)
            if index >= len(node):
                return 0.0
            node = node[index]
        else:
            node = node[part]
    return node


def knob_param(knob: Knob, value: Any, label: str) -> dict[str, Any]:
    """SolaraViz's description of one knob: a select, or a slider whose range is
    widened to hold `value`."""
    if knob.choices:
        return {"type": "Select", "value": value, "values": list(knob.choices), "label": label}
    cast = int if knob.integer else float
    return {
        "type": "SliderInt" if knob.integer else "SliderFloat",
        "value": cast(value),
        "label": label,
        "min": cast(min(knob.low, value)),
        "max": cast(max(knob.high, value)),
        "step": cast(knob.step),
    }


def model_params(scenario: Scenario) -> dict[str, Any]:
    """SolaraViz's `model_params`: a slider or select per knob at the scenario's value,
    the A/B switch (off) and B's knobs (at the same values), and the scenario itself,
    fixed, as `base`."""
    params: dict[str, Any] = {"base": scenario}
    for knob in KNOBS:
        params[knob.key] = knob_param(knob, value_at(scenario, knob.key), knob.label)
    params[AB] = {
        "type": "Checkbox",
        "value": False,
        "label": "A/B mode: run policy B (the B: sliders) beside A, same seed",
    }
    for knob in B_KNOBS:
        params[B + knob.key] = knob_param(knob, value_at(scenario, knob.key), f"B: {knob.label}")
    return params


def overrides_for(base: Scenario, values: dict[str, Any]) -> dict[str, Any]:
    """Dotted-key overrides making `base` take the knobs' values. A value equal to the
    scenario's is left out (the defaults give the file's scenario exactly); a level a
    list does not have is added only when its value is not 0."""
    overrides: dict[str, Any] = {}
    for key, value in values.items():
        if value == value_at(base, key):
            continue
        *path, last = key.split(".")
        if last.isdigit():
            current = value_at(base, ".".join(path))
            index = int(last)
            if index >= len(current):
                if index == len(current) and value:
                    overrides[".".join(path)] = [*current, value]
                continue
        overrides[key] = value
    return overrides


class DashboardModel(SocialCommerceModel):
    """The model SolaraViz (re)builds: the `base` scenario with the knobs' values; in
    A/B mode (`ab`) also `twin`, policy B, which each step steps too.

    SolaraViz's Reset calls the class with the parameters by keyword; Mesa 3.5 adds
    its own `scenario` (a Mesa Scenario, not ours), which is dropped here."""

    def __init__(self, base: Scenario | None = None, ab: bool = False, **kwargs: Any) -> None:
        # named `kwargs`: Mesa 3.3 checks the signature for a parameter of that name
        values = {k: v for k, v in kwargs.items() if k not in MESA_OWN}
        if base is None:
            base = session_scenario()
        knobs = {knob.key for knob in KNOBS} | {B + knob.key for knob in B_KNOBS}
        unknown = set(values) - knobs
        if unknown:
            raise ValueError(f"not a dashboard knob: {', '.join(sorted(unknown))}")
        a_values = {k: v for k, v in values.items() if not k.startswith(B)}
        super().__init__(with_overrides(base, overrides_for(base, a_values), SOURCE))
        self.twin: SocialCommerceModel | None = None
        self.b_changes: list[str] = []
        if ab:
            b_values = {k.removeprefix(B): v for k, v in values.items() if k.startswith(B)}
            policy_b = with_overrides(self.config, overrides_for(self.config, b_values), B_SOURCE)
            self.twin = SocialCommerceModel(policy_b)
            self.b_changes = policy_changes(self.config, policy_b)

    def step(self) -> None:
        """A day of A, then (in A/B mode) the same day of B."""
        super().step()
        if self.twin is not None:
            self.twin.step()


def policy_changes(a: Scenario, b: Scenario) -> list[str]:
    """B's knobs that differ from A's, in words ("entry fee (RMB) 365 → 99")."""
    changes = []
    for knob in B_KNOBS:
        before, after = value_at(a, knob.key), value_at(b, knob.key)
        if before != after:
            changes.append(
                f"{knob.label} {before:g} → {after:g}"
                if not knob.choices
                else f"{knob.label} {before} → {after}"
            )
    return changes


def session_scenario() -> Scenario:
    """The scenario `sharelab dashboard` was given (with its `--set` changes)."""
    path = os.environ.get(SCENARIO_ENV)
    if not path:
        raise RuntimeError(f"{SCENARIO_ENV} names no scenario file; use `sharelab dashboard`")
    return load_scenario(path, json.loads(os.environ.get(OVERRIDES_ENV) or "{}"))


def lights(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Each compliance rule against the run so far: its value, threshold, source and
    status ("breached", "clear", or "not applicable" when the indicator has no value),
    the most serious rules first."""
    rows = []
    for rule in RULES:
        value = summary.get(rule.indicator)
        if value is None:
            status, shown = "not applicable", "n/a"
        else:
            status = "breached" if rule.breached(value) else "clear"
            shown = FORMATS.get(rule.indicator, "{:g}").format(value)
        rows.append(
            {
                "rule": rule.rule,
                "indicator": rule.indicator,
                "severity": rule.severity,
                "status": status,
                "value": shown,
                "threshold": f"{rule.compare} {rule.threshold:g}",
                "source": rule.source,
            }
        )
    rank = {severity: i for i, severity in enumerate(reversed(SEVERITIES))}
    return sorted(rows, key=lambda row: rank[row["severity"]])


def settings_line(scenario: Scenario) -> str:
    """The knobs' values of a run, in words (the sliders show no numbers)."""
    parts = []
    for knob in KNOBS:
        value = value_at(scenario, knob.key)
        parts.append(f"{knob.label} {value:g}" if not knob.choices else f"{knob.label} {value}")
    return "; ".join(parts)


def lights_html(rows: list[dict[str, Any]], day: int, people: int, settings: str = "") -> str:
    """The compliance panel as HTML: one line per rule, a coloured light, the status in
    words (readable without colour), value against threshold, the source below."""
    escape = html.escape
    lines = [
        f'<div class="sharelab-compliance" style="font-size:13px;line-height:1.3">'
        f"<b>Compliance, day {day}</b> ({people:,} people) &nbsp;"
        f'<span style="color:#666">red: breached; green: clear; grey: not applicable</span>'
        f'<div class="sharelab-settings" style="color:#666;font-size:11px">'
        f"This run: {escape(settings)}</div>"
    ]
    for row in rows:
        colour = COLOURS[row["status"]]
        lines.append(
            f'<div class="sharelab-light" data-indicator="{escape(row["indicator"])}" '
            f'data-severity="{escape(row["severity"])}" data-status="{escape(row["status"])}" '
            f'style="margin-top:6px" title="{escape(row["source"])}">'
            f'<span style="display:inline-block;width:12px;height:12px;border-radius:6px;'
            f'background:{colour};vertical-align:middle"></span> '
            f"<b>{escape(row['rule'])}</b> ({escape(row['severity'])}): "
            f'<span style="color:{colour}">{escape(row["status"])}</span>, '
            f"{escape(LABELS.get(row['indicator'], row['indicator']))} "
            f"{escape(row['value'])} (flag {escape(row['threshold'])})"
            f'<div style="color:#666;font-size:11px">{escape(row["source"])}</div></div>'
        )
    lines.append("</div>")
    return "".join(lines)


def compliance_panel(model: SocialCommerceModel):
    """The compliance lights; SolaraViz redraws it after each step (or render interval)."""
    rows = lights(model.summary())
    with solara.Card(style={"height": "100%", "overflow": "auto"}) as card:
        solara.HTML(
            tag="div",
            unsafe_innerHTML=lights_html(
                rows, model.day, model.world.people.n, settings_line(model.config)
            ),
        )
    return card


def collected_days(model: Any) -> pd.DataFrame:
    """The daily rows collected so far, whole days only: the page redraws from its own
    thread, and may read while a step is adding the day's row column by column."""
    columns = dict(model.datacollector.model_vars)
    days = min((len(values) for values in columns.values()), default=0)
    return pd.DataFrame({name: values[:days] for name, values in columns.items()})


def chart_figure(model: DashboardModel, measures: tuple[str, ...], title: str) -> Figure:
    """Daily figures as Mesa's plot component draws them, labelled from the metric
    declarations; in A/B mode B's lines, dashed, beside A's. Margins are fixed: a
    tight bounding box would draw the figure twice, doubling the time of a redraw."""
    fig = Figure()
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.11, top=0.92)
    ax = fig.subplots()
    runs = [("", model)] if model.twin is None else [("A: ", model), ("B: ", model.twin)]
    for (prefix, run), style in zip(runs, ("-", "--"), strict=False):
        days = collected_days(run)
        for i, name in enumerate(measures):
            label = prefix + LABELS.get(name, name)
            ax.plot(days.loc[:, name], linestyle=style, color=f"C{i}", label=label)
    ax.set_title(title)
    if len(ax.get_lines()) > 1:
        ax.legend(loc="best")
    if len(measures) == 1:
        ax.set_ylabel(LABELS.get(measures[0], measures[0]))
    ax.set_xlabel("Step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def chart(measures: tuple[str, ...], title: str) -> Callable[[DashboardModel], Any]:
    """A panel of daily figures (one of PANELS)."""

    def draw(model: DashboardModel):
        figure = chart_figure(model, measures, title)
        return solara.FigureMatplotlib(figure, format="png")

    return draw


def ab_rows(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Each headline figure of A's and B's summaries and the difference B − A (None
    where either has no value), with the three as read."""
    rows = []
    for name in HEADLINES:
        metric = DECLARED[name]
        first, second = a.get(name), b.get(name)
        known = first is not None and second is not None and first == first and second == second
        difference = second - first if known else None
        rows.append(
            {
                "metric": name,
                "label": metric.label,
                "a": first,
                "b": second,
                "difference": difference,
                "shown": (
                    readable(metric, first),
                    readable(metric, second),
                    readable(metric, difference, signed=True),
                ),
            }
        )
    return rows


def status_html(status: str) -> str:
    """A compliance light: a coloured dot and its status in words."""
    colour = COLOURS[status]
    return (
        f'<span style="display:inline-block;width:10px;height:10px;border-radius:5px;'
        f'background:{colour};vertical-align:middle"></span> '
        f'<span style="color:{colour}">{html.escape(status)}</span>'
    )


def ab_html(a: dict[str, Any], b: dict[str, Any], day: int, changes: list[str]) -> str:
    """The A/B panel's text: what B changes, a table of the headline figures of A, B and
    B − A, and each compliance rule's light for A and for B."""
    escape = html.escape
    cell = 'style="padding:1px 8px;text-align:right;white-space:nowrap"'
    differs = (
        f"B differs in: {escape('; '.join(changes))}"
        if changes
        else "B's policy is A's, so every difference is 0"
    )
    lines = [
        f'<div class="sharelab-ab" style="font-size:13px;line-height:1.3">'
        f"<b>A/B, day {day}</b>: A is this run's sliders, B the same world and seed "
        f'(common random numbers) with B\'s sliders. <span class="sharelab-b-changes">'
        f"{differs}</span>"
        f'<table style="border-collapse:collapse;margin-top:4px">'
        f'<tr><th style="text-align:left">figure, run so far</th><th {cell}>A</th>'
        f"<th {cell}>B</th><th {cell}>B − A</th></tr>"
    ]
    for row in ab_rows(a, b):
        shown_a, shown_b, shown_difference = (escape(text) for text in row["shown"])
        lines.append(
            f'<tr class="sharelab-ab-row" data-metric="{escape(row["metric"])}" '
            f'data-difference="{escape(str(row["difference"]))}">'
            f"<td>{escape(row['label'])}</td><td {cell}>{shown_a}</td>"
            f"<td {cell}>{shown_b}</td><td {cell}><b>{shown_difference}</b></td></tr>"
        )
    lines.append(
        '</table><table style="border-collapse:collapse;margin-top:6px">'
        '<tr><th style="text-align:left">compliance rule</th>'
        f"<th {cell}>A</th><th {cell}>B</th></tr>"
    )
    for light_a, light_b in zip(lights(a), lights(b), strict=True):
        lines.append(
            f'<tr class="sharelab-ab-light" data-indicator="{escape(light_a["indicator"])}" '
            f'data-a="{escape(light_a["status"])}" data-b="{escape(light_b["status"])}">'
            f"<td>{escape(light_a['rule'])}</td><td {cell}>{status_html(light_a['status'])}</td>"
            f"<td {cell}>{status_html(light_b['status'])}</td></tr>"
        )
    lines.append("</table></div>")
    return "".join(lines)


def headline_html(summary: dict[str, Any], day: int) -> str:
    """The A/B panel with A/B mode off: how to switch it on, and this run's headline
    figures."""
    escape = html.escape
    rows = "".join(
        f"<tr><td>{escape(DECLARED[name].label)}</td>"
        f'<td style="padding:1px 8px;text-align:right">'
        f"{escape(readable(DECLARED[name], summary.get(name)))}</td></tr>"
        for name in HEADLINES
    )
    return (
        f'<div class="sharelab-ab-off" style="font-size:13px;line-height:1.3">'
        f"<b>Headline figures, day {day}</b>. A/B mode is off: to run a second policy, "
        f"B, beside this one on the same seed, tick <i>A/B mode</i> in the sidebar, set "
        f"the <i>B:</i> sliders and press Reset."
        f'<table style="border-collapse:collapse;margin-top:4px">{rows}</table></div>'
    )


def ab_panel(model: DashboardModel):
    """A against B in A/B mode; else this run's headline figures and how to switch it on."""
    if model.twin is None:
        shown = headline_html(model.summary(), model.day)
    else:
        shown = ab_html(model.summary(), model.twin.summary(), model.day, model.b_changes)
    with solara.Card(style={"height": "100%", "overflow": "auto"}) as card:
        solara.HTML(tag="div", unsafe_innerHTML=shown)
    return card


def trees_panel(model: SocialCommerceModel):
    """The network view's largest recruitment trees."""
    figure = network.figure(network.draw_trees, model)
    image = solara.FigureMatplotlib(figure, format="png")
    return solara.Div(children=[image], classes=["sharelab-trees"])


def saturation_panel(model: SocialCommerceModel):
    """The network view's saturation of the social graph."""
    figure = network.figure(network.draw_saturation, model)
    image = solara.FigureMatplotlib(figure, format="png")
    return solara.Div(children=[image], classes=["sharelab-saturation"])


NETWORK_PANELS = (trees_panel, saturation_panel)


def components() -> list:
    """The panels: compliance lights and A/B first, then the charts, then the network
    view."""
    charts = [chart(measures, title) for measures, title in PANELS]
    return [compliance_panel, ab_panel, *charts, *NETWORK_PANELS]


def dashboard(scenario: Scenario, model: DashboardModel | None = None):
    """The SolaraViz page for a scenario (a new model at its values unless given)."""
    params = model_params(scenario)
    model = model if model is not None else DashboardModel(base=scenario)
    large = scenario.population.size > LARGE_RUN
    return SolaraViz(
        model,
        components=components(),
        model_params=params,
        name=f"ShareLab: {scenario.name}",
        play_interval=1 if large else 50,
        render_interval=5 if large else 1,
    )


@solara.component
def Page():
    """One session: its scenario and model, built when the page opens."""
    scenario = solara.use_memo(session_scenario, dependencies=[])
    model = solara.use_memo(lambda: DashboardModel(base=scenario), dependencies=[])
    return dashboard(scenario, model)
