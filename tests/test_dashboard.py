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

import pytest

solara = pytest.importorskip("solara", reason="the viz extra is not installed")
import ipyvuetify as v  # noqa: E402

from simulation.cli import main  # noqa: E402
from simulation.mechanisms.compliance import RULES  # noqa: E402
from simulation.scenario import load_scenario  # noqa: E402
from simulation.viz import dashboard as dash  # noqa: E402

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
    """One chart, not six: each step redraws every chart, and that is most of its time."""
    monkeypatch.setattr(dash, "PANELS", dash.PANELS[:1])


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


def open_offline(browser, url, outside):
    """The page with every request off this machine refused (and noted)."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})

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
        page.get_by_role("button", name="▶").click()
        expect(day).to_contain_text(re.compile(r"Compliance, day ([2-9]\d|\d{3})"), timeout=40_000)
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
        for folder in (tmp_path, os.environ.get("SHARELAB_SCREENSHOTS")):
            if folder:
                page.screenshot(path=str(Path(folder) / f"dashboard-{preset}.png"))
        assert outside == [], outside
    finally:
        context.close()
