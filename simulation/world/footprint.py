"""What a scenario will ask of the machine, estimated before anything is drawn: a run
that cannot fit in memory is refused with the estimate, instead of dying half-way.

The coefficients are measured (benchmarks/run.py, Python 3.11, numpy 2, at 1M and 10M
people): a conservative 128 bytes per stored tie (the Watts–Strogatz build peaks near
60, an Erdős–Rényi build higher), 0.1 µs to build each, a few hundred bytes per person,
and 0.07 µs per person-day.
On the complete graph no tie is stored, but every member invites
among everyone each day, so the day's invitation arrays grow with n²·invite_prob.
The follower graph of the content channel, when used, takes about 100 bytes and a
microsecond per follow to draw (measured at 200,000 people).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from simulation.scenario import ScenarioError
from simulation.scenario.schema import Scenario

INTERPRETER = 200 * 2**20  # bytes of Python, numpy, pandas and Mesa before any array
PER_TIE = 128
PER_PERSON = 400
PER_NEED = 24  # per person and product
PER_INVITATION = 48
EDGE_LINE = 12  # bytes of a typical 'u v' line of an edge list
TIE_SECONDS = 1e-7
PERSON_DAY_SECONDS = 7e-8
INVITATION_SECONDS = 2e-8
PER_FOLLOW = 104  # peak bytes per follow while the follower graph is drawn (§7.16)
FOLLOW_SECONDS = 1e-6


@dataclass(frozen=True)
class Footprint:
    """Estimated peak memory (bytes) and time (seconds) of one run."""

    bytes: float
    seconds: float


def stored_ties(scenario: Scenario) -> float:
    """Ties the graph will store: n·k/2, or an edge list's lines; 0 on the complete graph."""
    graph, n = scenario.graph, scenario.population.size
    if graph.kind == "complete":
        return 0.0
    if graph.kind == "edgelist":
        path = Path(graph.path)
        return path.stat().st_size / EDGE_LINE if path.is_file() else 0.0
    return n * graph.mean_degree / 2


def stored_follows(scenario: Scenario) -> float:
    """Follows the follower graph will store, if the content channel is on at the start
    or an intervention may turn it on: n·mean_followers plus the platform hosts'."""
    content, n = scenario.content, scenario.population.size
    later = any(
        key == "content" or key.startswith("content.")
        for change in scenario.interventions
        for key in change.set
    )
    if content.effort_share == 0 and not later:
        return 0.0
    return n * content.mean_followers + content.platform_hosts * min(content.host_followers, n)


def footprint(scenario: Scenario) -> Footprint:
    """Peak memory and time of a run of `scenario`, if everyone ends up a member."""
    n = scenario.population.size
    products = max(len(scenario.products), 1)
    ties = stored_ties(scenario)
    invitations = 0.0
    if scenario.graph.kind == "complete":
        invitations = float(n) * (n - 1) * scenario.recruitment.invite_prob
    memory = INTERPRETER + PER_TIE * ties + (PER_PERSON + PER_NEED * products) * n
    memory += PER_INVITATION * invitations
    follows = stored_follows(scenario)
    memory += PER_FOLLOW * follows
    days = scenario.run.steps
    daily = PERSON_DAY_SECONDS * n + INVITATION_SECONDS * invitations
    seconds = TIE_SECONDS * ties + FOLLOW_SECONDS * follows + daily * days
    return Footprint(memory, seconds)


def available_memory() -> float:
    """Bytes the machine can give a new process now (MemAvailable), or its physical
    memory where that is not known."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def check_fits(scenario: Scenario) -> Footprint:
    """The run's footprint; a ScenarioError naming the estimate when it cannot fit in
    the memory available."""
    need = footprint(scenario)
    have = available_memory()
    if need.bytes > have:
        raise ScenarioError(
            f"scenario {scenario.name}",
            "population.size",
            f"{scenario.population.size:,} people with {stored_ties(scenario):,.0f} ties "
            f"need about {need.bytes / 2**30:,.1f} GiB of memory and this machine has "
            f"{have / 2**30:,.1f} GiB available; try fewer people or ties",
        )
    return need
