"""The live dashboard (`sharelab dashboard`): Mesa's SolaraViz on a scenario.

`solara run simulation.viz.dashboard` serves `Page`; the scenario file comes from the
environment (`SCENARIO_ENV`, and `--set` changes as JSON in `OVERRIDES_ENV`), as the
command sets it. Each browser session builds its own model (never one shared by all).

The sidebar's sliders are a few policy keys of the scenario, started at the file's
values; they take effect on Reset (a new run from day 0 with the values chosen).
The panels: the compliance lights (each rule of `mechanisms.compliance.RULES`
against the run so far, from `model.summary()`), then daily figures of the run.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from typing import Any

import solara
from mesa.visualization import SolaraViz, make_plot_component

from simulation.mechanisms.compliance import RULES, SEVERITIES
from simulation.model import METRICS, SocialCommerceModel
from simulation.scenario import load_scenario, with_overrides
from simulation.scenario.schema import Scenario

SCENARIO_ENV = "SHARELAB_DASHBOARD_SCENARIO"
OVERRIDES_ENV = "SHARELAB_DASHBOARD_OVERRIDES"
SOURCE = "the dashboard"
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


def model_params(scenario: Scenario) -> dict[str, Any]:
    """SolaraViz's `model_params`: a slider or select per knob at the scenario's value
    (the range widened to hold it), and the scenario itself, fixed, as `base`."""
    params: dict[str, Any] = {"base": scenario}
    for knob in KNOBS:
        value = value_at(scenario, knob.key)
        if knob.choices:
            params[knob.key] = {
                "type": "Select",
                "value": value,
                "values": list(knob.choices),
                "label": knob.label,
            }
            continue
        kind = "SliderInt" if knob.integer else "SliderFloat"
        cast = int if knob.integer else float
        params[knob.key] = {
            "type": kind,
            "value": cast(value),
            "label": knob.label,
            "min": cast(min(knob.low, value)),
            "max": cast(max(knob.high, value)),
            "step": cast(knob.step),
        }
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
    """The model SolaraViz (re)builds: the `base` scenario with the knobs' values.

    SolaraViz's Reset calls the class with the parameters by keyword; Mesa 3.5 adds
    its own `scenario` (a Mesa Scenario, not ours), which is dropped here."""

    def __init__(self, base: Scenario | None = None, **kwargs: Any) -> None:
        # named `kwargs`: Mesa 3.3 checks the signature for a parameter of that name
        values = {k: v for k, v in kwargs.items() if k not in MESA_OWN}
        if base is None:
            base = session_scenario()
        knobs = {knob.key for knob in KNOBS}
        unknown = set(values) - knobs
        if unknown:
            raise ValueError(f"not a dashboard knob: {', '.join(sorted(unknown))}")
        super().__init__(with_overrides(base, overrides_for(base, values), SOURCE))


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


def labelled(measures: tuple[str, ...], title: str):
    """A chart's finishing: its title and the metrics' labels in the legend."""

    def finish(ax) -> None:
        ax.set_title(title)
        for line, name in zip(ax.get_lines(), measures, strict=False):
            line.set_label(LABELS.get(name, name))
        if len(measures) > 1:
            ax.legend(loc="best")
        else:
            ax.set_ylabel(LABELS.get(measures[0], measures[0]))

    return finish


def components() -> list:
    """The panels: compliance lights first, then the charts."""
    charts = [
        make_plot_component(
            measures[0] if len(measures) == 1 else list(measures), labelled(measures, title)
        )
        for measures, title in PANELS
    ]
    return [compliance_panel, *charts]


def dashboard(scenario: Scenario, model: SocialCommerceModel | None = None):
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
