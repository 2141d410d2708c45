"""`sharelab dashboard`: its parameters, its compliance lights, its page (rendered in
Python with solara) and, end to end, the served page in a real headless browser
(Debian's chromium driven by Playwright) with no internet."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

solara = pytest.importorskip("solara", reason="the viz extra is not installed")
import ipyvuetify as v  # noqa: E402
import ipywidgets as widgets  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from simulation.cli import main  # noqa: E402
from simulation.mechanisms.compliance import RULES  # noqa: E402
from simulation.model import SocialCommerceModel  # noqa: E402
from simulation.scenario import load_scenario  # noqa: E402
from simulation.scenario.schema import scope_of  # noqa: E402
from simulation.viz import dashboard as dash  # noqa: E402
from simulation.viz import network  # noqa: E402
from simulation.world.people import CONSUMER, FORMER, MEMBER, NEVER  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PYRAMID = ROOT / "scenarios" / "schemes" / "pyramid.toml"
AFFILIATE = ROOT / "scenarios" / "schemes" / "affiliate.toml"
SMALL = {"population.size": 2000}
DAYS = 20  # the pyramid's first criminal-threshold tree is on day 15 at 2,000 people


# ---- parameters and lights ----------------------------------------------------------


def test_parameters_start_at_the_scenarios_values():
    scenario = load_scenario(PYRAMID)
    params = dash.model_params(scenario)
    assert params["base"] is scenario
    assert params["commission.entry_fee"]["value"] == 365.0
    assert params["tiers.0.direct_rate"]["value"] == 0.10
    assert params["commission.override_rates.0"]["value"] == 0.05
    assert params["commission.recruiting_bonus.0"]["value"] == 120.0
    assert params["commission.payout_cap"]["value"] == 0.0
    assert params["platform.audit_rate"]["value"] == 0.05
    assert params["sharing.shares_per_day"]["value"] == 3.0
    assert params["sharing.targeting"] == {
        "type": "Select",
        "value": "random",
        "values": ["random", "matched"],
        "label": "share targeting",
    }
    assert params["population.size"]["value"] == 20000
    assert params["population.size"]["type"] == "SliderInt"
    assert params["run.seed"]["value"] == 42
    for name, spec in params.items():
        if name != "base" and spec["type"].startswith("Slider"):
            assert spec["min"] <= spec["value"] <= spec["max"], name


def test_a_level_the_scheme_lacks_starts_at_zero_and_can_be_added():
    scenario = load_scenario(AFFILIATE, SMALL)
    params = dash.model_params(scenario)
    assert params["commission.recruiting_bonus.0"]["value"] == 0.0
    assert params["commission.override_rates.0"]["value"] == 0.0
    assert dash.overrides_for(scenario, {"commission.recruiting_bonus.0": 0.0}) == {}
    changed = dash.overrides_for(
        scenario, {"commission.recruiting_bonus.0": 50.0, "commission.entry_fee": 99.0}
    )
    assert changed == {"commission.recruiting_bonus": [50.0], "commission.entry_fee": 99.0}
    model = dash.DashboardModel(base=scenario, **{"commission.recruiting_bonus.0": 50.0})
    assert model.config.commission.recruiting_bonus == [50.0]


def test_the_defaults_build_the_files_scenario_and_mesas_own_arguments_are_dropped():
    scenario = load_scenario(PYRAMID, SMALL)
    defaults = {k: spec["value"] for k, spec in dash.model_params(scenario).items() if k != "base"}
    model = dash.DashboardModel(base=scenario, scenario=object(), rng=None, **defaults)
    assert model.config == scenario
    with pytest.raises(ValueError, match="not a dashboard knob"):
        dash.DashboardModel(base=scenario, **{"purchase.price": 1.0})


def test_the_content_community_and_risk_knobs_reach_their_mechanisms():
    """The three mechanisms of the business model are off in the file and switched on
    from the dashboard: each knob lands on its key."""
    scenario = load_scenario(PYRAMID, SMALL)
    defaults = {k: spec["value"] for k, spec in dash.model_params(scenario).items() if k != "base"}
    chosen = defaults | {
        "content.effort_share": 0.5,
        "community.budget": 10.0,
        "risk.targeting": "score",
    }
    model = dash.DashboardModel(base=scenario, **chosen)
    assert model.config.content.effort_share == 0.5
    assert model.config.community.budget == 10.0
    assert model.config.risk.targeting == "score"
    model.step()
    assert model.datacollector.get_model_vars_dataframe()["community_spend"].iloc[-1] > 0


def test_lights_red_when_breached_green_when_not_grey_when_not_applicable():
    summary = {rule.indicator: 0.0 for rule in RULES}
    summary |= {"criminal_threshold_trees": 3, "unsold_purchase_share": None}
    rows = {row["indicator"]: row for row in dash.lights(summary)}
    assert rows["criminal_threshold_trees"]["status"] == "breached"
    assert rows["criminal_threshold_trees"]["threshold"] == "> 0"
    assert "Art. 224-1" in rows["criminal_threshold_trees"]["source"]
    assert rows["entry_fee_share"]["status"] == "clear"
    assert rows["entry_fee_share"]["value"] == "0.0%"
    assert rows["unsold_purchase_share"]["status"] == "not applicable"
    assert rows["retail_customers_per_member"]["status"] == "breached"  # 0 < 10 customers
    assert dash.lights(summary)[0]["severity"] == "criminal"  # the most serious first
    page = dash.lights_html(dash.lights(summary), day=7, people=2000)
    assert 'data-indicator="criminal_threshold_trees" data-severity="criminal" ' in page
    assert 'data-status="breached"' in page and dash.COLOURS["breached"] in page
    assert "Compliance, day 7</b> (2,000 people)" in page


# ---- the page, rendered in Python ---------------------------------------------------


@pytest.fixture
def one_chart(monkeypatch):
    """One chart, not six, and no network view: each step redraws every chart, and that
    is most of its time."""
    monkeypatch.setattr(dash, "PANELS", dash.PANELS[:1])
    monkeypatch.setattr(dash, "NETWORK_PANELS", ())


def render(scenario):
    """The dashboard in an app layout (for its sidebar); its model; the render context."""
    model = dash.DashboardModel(base=scenario)

    @solara.component
    def App():
        with solara.AppLayout() as layout:
            dash.dashboard(scenario, model)
        return layout

    with warnings.catch_warnings():  # Mesa's own components break a rule of hooks
        warnings.simplefilter("ignore", UserWarning)
        _, rc = solara.render(App(), handle_error=False)
    return model, rc


def panel(rc) -> str:
    return " ".join(
        w.unsafe_innerHTML
        for w in rc.find(solara.widgets.HTML).widgets
        if "sharelab-compliance" in (w.unsafe_innerHTML or "")
    )


def light(html: str, indicator: str = "criminal_threshold_trees") -> str:
    found = re.findall(rf'data-indicator="{indicator}"[^>]*data-status="([\w ]+)"', html)
    assert len(found) == 1, html[:500]
    return found[0]


def test_the_page_has_the_scenarios_sliders_and_a_step_updates_the_lights(one_chart):
    model, rc = render(load_scenario(PYRAMID, SMALL))
    sliders = {w.label: w.v_model for w in rc.find(v.Slider).widgets}
    assert sliders["entry fee (RMB)"] == 365.0
    assert sliders["recruiting bonus, 1 level up (RMB)"] == 120.0
    assert sliders["people on the graph"] == 2000
    assert sliders["effort on content (share; 0 = off)"] == 0.0
    assert sliders["community budget (RMB a member a month)"] == 0.0
    assert {w.label: w.v_model for w in rc.find(v.Select).widgets} == {
        "share targeting": "random",
        "audit targeting": "random",
        "B: share targeting": "random",
        "B: audit targeting": "random",
    }
    assert "Compliance, day 0</b> (2,000 people)" in panel(rc)
    assert light(panel(rc)) == "clear"
    step = rc.find(v.Btn, children=["Step"]).widget
    for _ in range(DAYS):
        step.click()
    assert model.day == DAYS
    assert f"Compliance, day {DAYS}</b>" in panel(rc)
    assert light(panel(rc)) == "breached"


def test_reset_builds_a_new_model_with_the_values_chosen(one_chart):
    _, rc = render(load_scenario(PYRAMID, SMALL))
    step = rc.find(v.Btn, children=["Step"]).widget
    for _ in range(5):
        step.click()
    assert light(panel(rc), "entry_fee_share") == "breached"  # the file's RMB 365 fee
    rc.find(v.Slider, label="people on the graph").widget.v_model = 1000
    rc.find(v.Slider, label="entry fee (RMB)").widget.v_model = 0.0
    assert "Compliance, day 5</b> (2,000 people)" in panel(rc)  # only Reset applies them
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert "Compliance, day 0</b> (1,000 people)" in panel(rc)
    assert "This run: entry fee (RMB) 0;" in panel(rc)
    for _ in range(5):
        step.click()
    assert "Compliance, day 5</b> (1,000 people)" in panel(rc)
    assert light(panel(rc), "entry_fee_share") == "clear"  # no fee (renewals come on day 30)


# ---- the network view ---------------------------------------------------------------


@pytest.fixture(scope="module")
def pyramid_day_20():
    """The pyramid at 2,000 people after 20 days: a few trees, members spreading."""
    model = SocialCommerceModel(load_scenario(PYRAMID, SMALL))
    model.run(DAYS)
    return model


def drawn(draw, model) -> tuple:
    """The axes `draw` fills and the scatter of its people."""
    ax = Figure().subplots()
    result = draw(model, ax)
    (nodes,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    return result, ax, nodes


def test_the_tree_view_draws_the_largest_trees_whole_when_they_fit(pyramid_day_20):
    people = pyramid_day_20.world.people
    roots = np.flatnonzero(people.tree_size)
    by_size = sorted(roots.tolist(), key=lambda root: (-people.tree_size[root], root))
    assert network.largest_roots(people).tolist() == by_size[: network.TREES]
    trees, ax, nodes = drawn(network.draw_trees, pyramid_day_20)
    assert [tree.root for tree in trees] == by_size[: network.TREES]
    for tree in trees:
        assert tree.members.size == tree.size == people.tree_size[tree.root]  # all fit
        assert set(people.root[tree.members]) == {tree.root}
        assert tree.members[0] == tree.root and tree.y[0] == 0
        assert np.array_equal(tree.y, -people.depth[tree.members])
    members = np.concatenate([tree.members for tree in trees])
    assert nodes.get_offsets().shape[0] == members.size
    tiers = np.array(network.TIER_COLOURS)[people.tier[members]]
    assert [to_hex(c) for c in nodes.get_edgecolors()] == list(tiers)
    hollow = [to_hex(c) == "#ffffff" for c in nodes.get_facecolors()]
    assert hollow == list(people.role[members] == FORMER)
    income = people.income[members] / 100
    biggest = int(np.argmax(nodes.get_sizes()))
    assert income[biggest] == income.max() > 0  # sized by income
    links = ax.collections[0].get_segments()
    assert len(links) == members.size - len(trees)  # each member but a root, to its sponsor
    assert "lines: sponsor to recruit" in ax.get_title(loc="left")
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "tier: member" in legend and any(label.startswith("income RMB ") for label in legend)


def test_a_large_tree_is_cut_to_its_first_levels():
    people = SocialCommerceModel(load_scenario(PYRAMID, SMALL)).world.people
    # a hand-made tree of 1 + 3 + 9 members under person 0, and one of 2 under person 50
    people.join(np.array([0, 50]), np.array([-1, -1]), 0)
    people.join(np.array([1, 2, 3, 51]), np.array([0, 0, 0, 50]), 1)
    people.join(np.arange(10, 19), np.repeat([1, 2, 3], 3), 2)
    trees = {tree.root: tree for tree in network.largest_trees(people, count=2, cap=8)}
    assert set(trees) == {0, 50}
    assert trees[50].members.tolist() == [50, 51]  # the small tree whole
    assert trees[0].members.tolist() == [0, 1, 2, 3, 10, 11]  # the rest, shallowest first
    assert trees[0].size == 13
    x = dict(zip(trees[0].members.tolist(), trees[0].x, strict=True))
    assert x[10] < x[11] and x[1] == (x[10] + x[11]) / 2  # a sponsor over its recruits
    assert network.shares_of([2, 13, 40], 30) == [2, 13, 15]


def role_by_hand(people, person: int) -> str:
    if people.role[person] == MEMBER:
        return "member"
    if people.role[person] == FORMER:
        return "former member"
    assert people.role[person] == CONSUMER
    if people.last_bought_day[person] != NEVER:
        return "buyer, not member"
    return "never bought"


def test_the_saturation_view_colours_a_fixed_sample_by_role(pyramid_day_20):
    model = pyramid_day_20
    people, graph = model.world.people, model.world.graph
    sample, ax, nodes = drawn(network.draw_saturation, model)
    assert sample is network.social_sample(model)  # chosen once per model
    assert sample.people.size == network.SAMPLE == nodes.get_offsets().shape[0]
    assert model.world.founders[0] in sample.people
    ties = {
        (i, j)
        for i, a in enumerate(sample.people)
        for j, b in enumerate(sample.people)
        if i < j and b in graph.indices[graph.indptr[a] : graph.indptr[a + 1]]
    }
    assert {tuple(tie) for tie in sample.ties.tolist()} == ties
    assert len(ax.collections[0].get_segments()) == len(ties)
    colours = dict(zip(network.ROLES, network.ROLE_COLOURS, strict=True))
    expected = [colours[role_by_hand(people, p)] for p in sample.people]
    assert [to_hex(c) for c in nodes.get_facecolors()] == expected
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    members = sum(role_by_hand(people, p) == "member" for p in sample.people)
    assert f"member ({members:,})" in legend and members > 0
    again = SocialCommerceModel(load_scenario(PYRAMID, SMALL))  # same seed: same picture
    other = network.social_sample(again)
    assert np.array_equal(other.people, sample.people) and np.allclose(other.xy, sample.xy)


def test_the_saturation_view_on_a_well_mixed_graph_draws_no_ties():
    model = SocialCommerceModel(
        load_scenario(PYRAMID, {"population.size": 500, "graph.kind": "complete"})
    )
    sample, ax, nodes = drawn(network.draw_saturation, model)
    assert sample.well_mixed and sample.ties.size == 0
    assert nodes.get_offsets().shape[0] == network.SAMPLE
    assert "well-mixed" in ax.get_title(loc="left")


def images(rc, panel: str) -> list[bytes]:
    return [bytes(w.value) for w in rc.find(v.Html, class_=panel).find(widgets.Image).widgets]


def test_the_network_panels_render_and_follow_the_steps(monkeypatch):
    monkeypatch.setattr(dash, "PANELS", ())
    _, rc = render(load_scenario(PYRAMID, SMALL))
    before = {panel: images(rc, panel) for panel in ("sharelab-trees", "sharelab-saturation")}
    step = rc.find(v.Btn, children=["Step"]).widget
    for _ in range(3):
        step.click()
    for panel, (image,) in before.items():
        (now,) = images(rc, panel)
        assert image.startswith(b"\x89PNG") and now.startswith(b"\x89PNG")
        assert now != image, panel  # redrawn for day 3


# ---- A/B mode -----------------------------------------------------------------------


def summaries_agree(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        x == y or (x != x and y != y) for x, y in zip(a.values(), b.values(), strict=True)
    )


def test_b_knobs_are_policy_keys_so_b_shares_as_world_and_seed():
    assert {knob.key for knob in dash.B_KNOBS} == {
        knob.key for knob in dash.KNOBS if knob.key not in ("population.size", "run.seed")
    }
    assert all(scope_of(knob.key) == "policy" for knob in dash.B_KNOBS)
    params = dash.model_params(load_scenario(PYRAMID, SMALL))
    assert params["ab"] == {
        "type": "Checkbox",
        "value": False,
        "label": "A/B mode: run policy B (the B: sliders) beside A, same seed",
    }
    assert params["b.commission.recruiting_bonus.0"]["value"] == 120.0
    assert params["b.commission.recruiting_bonus.0"]["label"].startswith("B: recruiting bonus")
    assert dash.DashboardModel(base=load_scenario(PYRAMID, SMALL)).twin is None  # off


def test_ab_with_the_same_policy_gives_the_same_numbers():
    scenario = load_scenario(PYRAMID, SMALL)
    defaults = {k: spec["value"] for k, spec in dash.model_params(scenario).items() if k != "base"}
    model = dash.DashboardModel(base=scenario, **(defaults | {"ab": True}))
    alone = dash.DashboardModel(base=scenario)
    for _ in range(DAYS):
        model.step()
        alone.step()
    a, b = model.summary(), model.twin.summary()
    assert model.twin.config == model.config and model.b_changes == []
    assert summaries_agree(a, b)
    assert summaries_agree(a, alone.summary())  # B's run leaves A's alone
    days_a = model.datacollector.get_model_vars_dataframe()
    assert days_a.equals(model.twin.datacollector.get_model_vars_dataframe())
    rows = dash.ab_rows(a, b)
    assert [row["metric"] for row in rows] == list(dash.HEADLINES)
    assert all(row["difference"] == 0 for row in rows if row["a"] is not None)
    page = dash.ab_html(a, b, model.day, model.b_changes)
    assert "every difference is 0" in page
    assert page.count('data-difference="0') == len(rows)


def test_ab_with_a_higher_recruiting_bonus_shows_b_minus_a():
    scenario = load_scenario(PYRAMID, SMALL)
    model = dash.DashboardModel(
        base=scenario, ab=True, **{"b.commission.recruiting_bonus.0": 300.0}
    )
    bonus_a = model.config.commission.recruiting_bonus
    assert bonus_a[0] == 120.0
    assert model.twin.config.commission.recruiting_bonus == [300.0, *bonus_a[1:]]
    assert model.twin.seed == model.seed
    assert model.b_changes == ["recruiting bonus, 1 level up (RMB) 120 → 300"]
    for _ in range(DAYS):
        model.step()
    a, b = model.summary(), model.twin.summary()
    assert b["commissions_paid"] > a["commissions_paid"]
    for row in dash.ab_rows(a, b):
        assert row["a"] == a[row["metric"]] and row["b"] == b[row["metric"]]
        assert row["difference"] == b[row["metric"]] - a[row["metric"]]
    commissions = {row["metric"]: row for row in dash.ab_rows(a, b)}["commissions_paid"]
    assert commissions["shown"][2].startswith("+")
    page = dash.ab_html(a, b, model.day, model.b_changes)
    assert f'data-difference="{commissions["difference"]}"' in page
    assert "B differs in: recruiting bonus, 1 level up (RMB) 120 → 300" in page
    assert page.count('class="sharelab-ab-light"') == len(RULES)
    lines = dash.chart_figure(model, ("commissions_paid",), "Pay").axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["A: commissions paid", "B: commissions paid"]
    assert [line.get_linestyle() for line in lines] == ["-", "--"]
    paid_b = model.twin.datacollector.get_model_vars_dataframe()["commissions_paid"]
    assert np.array_equal(lines[1].get_ydata(), paid_b)


def test_with_ab_mode_off_the_panels_show_one_run():
    model = dash.DashboardModel(base=load_scenario(PYRAMID, SMALL))
    model.step()
    lines = dash.chart_figure(model, ("members",), "Members").axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["members"]
    page = dash.headline_html(model.summary(), model.day)
    assert "Headline figures, day 1" in page and "A/B mode is off" in page
    assert page.count("<tr>") == len(dash.HEADLINES)


def ab_panel(rc) -> str:
    return " ".join(
        w.unsafe_innerHTML
        for w in rc.find(solara.widgets.HTML).widgets
        if "sharelab-ab" in (w.unsafe_innerHTML or "")
    )


def test_the_ab_switch_and_b_sliders_take_effect_on_reset(one_chart):
    model, rc = render(load_scenario(PYRAMID, SMALL))
    assert "A/B mode is off" in ab_panel(rc)
    rc.find(v.Checkbox, label=dash.model_params(model.config)["ab"]["label"]).widget.v_model = True
    bonus = rc.find(v.Slider, label="B: recruiting bonus, 1 level up (RMB)").widget
    bonus.v_model = 300.0
    assert "A/B mode is off" in ab_panel(rc)  # only Reset applies them
    rc.find(v.Btn, children=["Reset"]).widget.click()
    step = rc.find(v.Btn, children=["Step"]).widget
    for _ in range(3):
        step.click()
    page = ab_panel(rc)
    assert "<b>A/B, day 3</b>" in page
    assert "B differs in: recruiting bonus, 1 level up (RMB) 120 → 300" in page


def test_the_command_names_the_missing_extra(monkeypatch, capsys):
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    assert main(["dashboard", str(PYRAMID)]) == 1
    assert capsys.readouterr().err.strip() == (
        'sharelab: error: the dashboard needs the viz extra: pip install ".[viz]"'
    )


def test_the_command_refuses_a_bad_scenario_in_one_line(capsys):
    assert main(["dashboard", str(PYRAMID), "--set", "population.size=-1"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


# ---- end to end: the served page in a headless browser --------------------------------


def chromium() -> str:
    """Debian's chromium (`apt-get install chromium`); skipped without one, except in
    CI (CI=true), where the browser test must run."""
    found = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        found = None
    if found:
        return found
    reason = "no chromium (apt-get install chromium) or no playwright (the dev extra)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: CI must run the browser test")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def serve(tmp_path_factory):
    """`serve(preset)`: the URL of `sharelab dashboard` on a preset at 2,000 people,
    started on first use (under xdist each worker starts only the ones it needs)."""
    logs = tmp_path_factory.mktemp("dashboard")
    started: dict[str, tuple[str, subprocess.Popen, object]] = {}

    def start(preset: str) -> str:
        if preset in started:
            return started[preset][0]
        scenario = {"pyramid": PYRAMID, "affiliate": AFFILIATE}[preset]
        port = free_port()
        log = (logs / f"{preset}.log").open("w")
        command = [sys.executable, "-c", "import sys; from simulation.cli import main; "]
        command[-1] += "sys.exit(main())"
        command += ["dashboard", str(scenario), "--port", str(port)]
        command += ["--set", "population.size=2000"]
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
        url = f"http://127.0.0.1:{port}/"
        started[preset] = (url, process, log)
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                return url
            except OSError:
                if time.time() > deadline or process.poll() is not None:
                    pytest.fail(f"{preset}: no server\n{Path(log.name).read_text()[-3000:]}")
                time.sleep(0.5)

    yield start
    for _, process, log in started.values():
        os.killpg(process.pid, signal.SIGTERM)  # the command and the server it started
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def browser():
    executable = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


WIDTH = 1400  # px, of the browser window and the screenshots
# the page scrolls inside its panes, not as a whole: the bottom of the lowest panel or
# of the sidebar
PAGE_HEIGHT = """() => 24 + Math.max(
    ...[...document.querySelectorAll('.vue-grid-item')].map(e => e.getBoundingClientRect().bottom),
    ...[...document.querySelectorAll('.v-navigation-drawer__content')]
        .map(e => e.getBoundingClientRect().top + e.scrollHeight))"""


def screenshot(page, name: str, tmp_path: Path) -> None:
    """The whole page, WIDTH px wide (the window stretched to its height), into tmp_path
    and into SHARELAB_SCREENSHOTS if set."""
    page.set_viewport_size({"width": WIDTH, "height": int(page.evaluate(PAGE_HEIGHT))})
    page.wait_for_timeout(500)  # the panes settle to the new height
    for folder in (tmp_path, os.environ.get("SHARELAB_SCREENSHOTS")):
        if folder:
            page.screenshot(path=str(Path(folder) / f"dashboard-{name}.png"))


def open_offline(browser, url, outside):
    """The page with every request off this machine refused (and noted)."""
    context = browser.new_context(viewport={"width": WIDTH, "height": 1000})

    def route(request_route):
        if urlparse(request_route.request.url).hostname in ("127.0.0.1", "localhost"):
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.goto(url)
    return context, page


def start_playing(page, tries: int = 3) -> None:
    """Press ▶ until the controls show ❚❚ (playing). On a loaded machine a press can
    come while the controls are still being redrawn after the last step, and be lost;
    the test is about what play shows, not about that race."""
    from playwright.sync_api import expect

    play = page.get_by_role("button", name="▶")
    pause = page.get_by_role("button", name="❚❚")
    for _ in range(tries):
        if play.is_visible():
            play.click()
        try:
            expect(pause).to_be_visible(timeout=15_000)
            return
        except AssertionError:
            continue
    expect(pause).to_be_visible()


@pytest.mark.parametrize("preset, light", [("pyramid", "breached"), ("affiliate", "clear")])
def test_in_a_browser_the_criminal_light_shows_the_scheme(serve, browser, preset, light, tmp_path):
    from playwright.sync_api import expect

    outside: list[str] = []
    context, page = open_offline(browser, serve(preset), outside)
    try:
        step = page.get_by_role("button", name="Step", exact=True)
        step.wait_for(timeout=60_000)
        expect(page.get_by_text("entry fee (RMB)", exact=True)).to_be_visible()
        day = page.locator(".sharelab-compliance")
        expect(day).to_contain_text("Compliance, day 0 (2,000 people)", timeout=20_000)
        step.click()
        expect(day).to_contain_text("Compliance, day 1 ", timeout=20_000)
        expect(page.get_by_text(re.compile(r"^(Step|Time): 1(\.0)?$"))).to_be_visible()
        start_playing(page)
        expect(day).to_contain_text(re.compile(r"Compliance, day ([2-9]\d|\d{3})"), timeout=90_000)
        page.get_by_role("button", name="❚❚").click()
        expect(page.get_by_role("button", name="▶")).to_be_visible(timeout=10_000)
        criminal = page.locator('[data-indicator="criminal_threshold_trees"]')
        expect(criminal).to_have_attribute("data-status", light, timeout=10_000)
        expect(page.locator("img").first).to_be_visible()  # the charts
        expect(page.locator(".sharelab-settings")).to_contain_text("entry fee (RMB) ")
        other, second = open_offline(browser, serve(preset), outside)  # a second tab
        try:  # has its own model, from day 0
            expect(second.locator(".sharelab-compliance")).to_contain_text(
                "Compliance, day 0 ", timeout=60_000
            )
        finally:
            other.close()
        screenshot(page, preset, tmp_path)
        assert outside == [], outside
    finally:
        context.close()


def test_in_a_browser_the_network_view_and_ab_mode_render(serve, browser, tmp_path):
    """The network view's two figures are drawn; the A/B switch and a B slider, on Reset,
    run B beside A, and the A/B panel shows B − A."""
    from playwright.sync_api import expect

    outside: list[str] = []
    context, page = open_offline(browser, serve("pyramid"), outside)
    try:
        step = page.get_by_role("button", name="Step", exact=True)
        step.wait_for(timeout=60_000)
        expect(page.locator(".sharelab-ab-off")).to_contain_text(
            "Headline figures, day 0", timeout=20_000
        )
        for panel in (".sharelab-trees img", ".sharelab-saturation img"):
            expect(page.locator(panel)).to_be_visible()
            assert page.locator(panel).evaluate("image => image.naturalWidth") > 300
        page.get_by_text("A/B mode: run policy B", exact=False).click()
        bonus = page.get_by_role("slider", name="B: recruiting bonus, 1 level up (RMB)")
        bonus.press("PageUp")  # ten steps of RMB 5
        expect(bonus).to_have_attribute("aria-valuenow", "170")
        page.get_by_role("button", name="Reset", exact=True).click()
        ab = page.locator(".sharelab-ab")
        expect(ab).to_contain_text("A/B, day 0", timeout=20_000)
        expect(ab).to_contain_text("B differs in: recruiting bonus, 1 level up (RMB) 120 → 170")
        for day in range(1, 6):
            step.click()
            expect(ab).to_contain_text(f"A/B, day {day}", timeout=20_000)
        paid = page.locator('.sharelab-ab-row[data-metric="commissions_paid"]')
        assert float(paid.get_attribute("data-difference")) > 0  # B pays more bonuses
        members = page.locator('.sharelab-ab-row[data-metric="members"]')
        expect(members).to_have_attribute("data-difference", "0")  # same luck so far
        light = page.locator('.sharelab-ab-light[data-indicator="criminal_threshold_trees"]')
        expect(light).to_have_attribute("data-a", re.compile("breached|clear"))
        expect(page.get_by_text("B: recruiting bonus, 1 level up (RMB)")).to_be_visible()
        screenshot(page, "ab", tmp_path)
        assert outside == [], outside
    finally:
        context.close()


def test_charts_read_whole_days_while_a_step_is_collecting():
    model = SocialCommerceModel(load_scenario(PYRAMID, {"population.size": 300, "run.steps": 3}))
    model.run()
    columns = model.datacollector.model_vars
    first = next(iter(columns))
    columns[first].append(columns[first][-1])  # a day's row half collected
    days = dash.collected_days(model)
    assert len(days) == 3 and list(days.columns) == list(columns)
