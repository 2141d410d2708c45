"""What every mechanism is: a scenario section it reads, the per-person arrays it
owns, a step over the day's events, and the metrics it reports.

The day's events flow from mechanism to mechanism as values in a `Day`; a mechanism
reads the fields an earlier one wrote and adds its own. Nothing passes through
attributes of the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

import numpy as np

from simulation.mechanisms.commission.refunds import Refund
from simulation.scenario.schema import Scenario
from simulation.world.ledger import DayBook
from simulation.world.orders import Orders, Payouts
from simulation.world.people import State
from simulation.world.world import World

Kind = Literal["daily", "cumulative", "final"]
GROUPS = ("Growth", "Economics", "Compliance")
# Units of counts and sums of money over the population: with each simulated person
# standing for `population.scale` real ones, a figure in these units scales with it.
EXTENSIVE_UNITS = frozenset(
    f"{unit}{per}" for unit in ("people", "orders", "shares", "RMB") for per in ("", " per day")
)


@dataclass(frozen=True)
class Metric:
    """A figure a run reports, declared once: every table, plot and file reads this.

    `kind`: "daily" (a day's value, a column of the time series), "cumulative" (over
    the run so far: a column, and its last value in the summary) or "final" (the
    summary only). `fmt` formats a value for reading (`fmt.format(value)`); `group`
    places it in tables.
    """

    name: str
    label: str
    unit: str
    fmt: str
    definition: str
    kind: Kind
    group: str = "Growth"

    @property
    def flow(self) -> bool:
        """Whether the figure is a day's amount ("… per day"), summed over a period."""
        return self.unit.endswith(" per day")

    @property
    def extensive(self) -> bool:
        """Whether the figure counts people, orders, shares or money over everyone, so
        that it is shown × `population.scale` in real units (a median or a share is not)."""
        return self.unit in EXTENSIVE_UNITS


@dataclass
class Shares:
    """The day's shares: who sent which product to whom, over which tie."""

    sender: np.ndarray
    receiver: np.ndarray
    tie: np.ndarray
    product: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.product is None:
            self.product = np.zeros(self.sender.shape, dtype=np.int64)

    @property
    def size(self) -> int:
        return int(self.sender.size)


def _none() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


@dataclass
class Day:
    """One day's events, as the mechanisms produce them, in plan order.

    `orders` and `newcomers` are keyed by where they came from, in the order they
    arose; `policy` is the policy in force (a mechanism that changes it sets a new one,
    and every mechanism takes it up before the next acts).
    """

    number: int
    policy: Scenario
    orders: dict[str, Orders] = field(default_factory=dict)
    newcomers: dict[str, np.ndarray] = field(default_factory=dict)
    sponsors: dict[str, np.ndarray] = field(default_factory=dict)
    leavers: dict[str, np.ndarray] = field(default_factory=dict)
    shares: Shares = field(default_factory=lambda: Shares(_none(), _none(), _none()))
    met_trust: np.ndarray = field(default_factory=lambda: np.empty(0))
    competitor_pull: float = 0.0
    lost_buyers: int = 0
    settled: Orders = field(default_factory=Orders)
    payouts: Payouts = field(default_factory=Payouts.empty)
    fee_payers: int = 0
    renewals: int = 0
    packages: int = 0  # cents the newcomers paid for gift packages
    refund: Refund | None = None
    clawed: Payouts = field(default_factory=Payouts.empty)
    book: DayBook | None = None

    def all_orders(self) -> Orders:
        return Orders.concat(list(self.orders.values()))

    def all_newcomers(self) -> np.ndarray:
        return np.concatenate([_none(), *self.newcomers.values()])

    def all_leavers(self) -> np.ndarray:
        return np.concatenate([_none(), *self.leavers.values()])


class Host(Protocol):
    """The model, as the mechanisms built in it see it: the world, the policy in
    force, Mesa's agents, and the other mechanisms of the plan by name."""

    world: World
    policy: Scenario
    agents: Any

    def mechanism(self, name: str) -> Mechanism: ...


class Mechanism:
    """One part of the day. Subclasses set `name`, `section` (the scenario section
    they read, None for none), `states` (per-person arrays they own), `metrics`, and
    define `step`; `bind` finds the mechanisms they call once the plan is built,
    `report` gives their metrics' values for the day, `final` their summary-only
    figures. `after` places a mechanism added to the model from outside (`extra`)
    in the plan: right after the entry of that name."""

    name: ClassVar[str] = ""
    section: ClassVar[str | None] = None
    states: ClassVar[tuple[State, ...]] = ()
    metrics: ClassVar[tuple[Metric, ...]] = ()
    after: ClassVar[str] = "churn"
    parts: tuple[Mechanism, ...] = ()

    def __init__(self, host: Host) -> None:
        self.world = host.world
        self.people = host.world.people
        for state in self.states:
            self.people.declare(state, self.name)
        self.configure(host.policy)

    def bind(self, host: Host) -> None:
        """Find the mechanisms this one calls (`host.mechanism(name)`), once every
        mechanism of the plan exists."""

    def configure(self, policy: Scenario) -> None:
        """Take up a (new) policy; by default, keep the section this mechanism reads."""
        self.policy = policy
        if self.section is not None:
            self.config = getattr(policy, self.section)

    def step(self, day: Day) -> None:
        """Act on the day: read earlier mechanisms' events from `day`, add its own."""

    def report(self, day: Day) -> dict[str, Any]:
        """The day's values of this mechanism's daily and cumulative metrics."""
        return {}

    def final(self) -> dict[str, Any]:
        """The run's values of this mechanism's final metrics."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"
