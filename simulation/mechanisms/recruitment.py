"""Recruitment: members invite contacts; a contact joins when the benefit it expects
beats the entry fee and its effort; newcomers enter the tree under their sponsor
(§7.5)."""

from __future__ import annotations

import numba
import numpy as np

from simulation.mechanisms.base import Day, Host, Mechanism
from simulation.mechanisms.tiers import Tiers
from simulation.scenario.schema import Scenario
from simulation.world.arrays import binomial_from_uniform, pick_one
from simulation.world.catalogue import Catalogue
from simulation.world.people import CONSUMER
from simulation.world.streams import slot

INVITES = slot("recruitment", 0, "how many contacts an inviter invites")
FIRST_CONTACT = slot("recruitment", 1, "where an inviter's run of invitations starts")
SPONSOR = slot("recruitment", 2, "which accepted inviter becomes the sponsor")


class Recruitment(Mechanism):
    """An inviter invites each contact with probability invite_prob (a Binomial count
    over its ties, taken as consecutive contacts from a random start); a contact weighs
    the benefit it expects over the horizon against the fee and its effort cost."""

    name = "recruitment"
    section = "recruitment"

    def bind(self, host: Host) -> None:
        self.tiers: Tiers = host.mechanism("tiers")

    def configure(self, policy: Scenario) -> None:
        super().configure(policy)
        purchase = policy.purchase
        catalogue = Catalogue.from_scenario(policy)
        commission = policy.commission
        self.entry_fee = commission.entry_fee
        self.renewals = commission.renewal_fee * self.config.horizon_days / commission.renewal_days
        self.review_days = policy.commission.review_days
        self.discount_value = (
            purchase.member_discount * catalogue.mean_price * purchase.self_purchase_prob
        )
        self.package_value = policy.commission.package_cost / max(1.0 - purchase.gross_margin, 0.01)

    def step(self, day: Day) -> None:
        newcomers, sponsors = self.recruit(day.number)
        self.enrol(newcomers, sponsors, day.number)
        day.newcomers["recruited"], day.sponsors["recruited"] = newcomers, sponsors

    def enrol(self, newcomers: np.ndarray, sponsors: np.ndarray, day: int) -> None:
        """Make `newcomers` members under `sponsors` (-1: none), at the entry tier; they
        pay at settlement."""
        self.people.join(newcomers, sponsors, day)
        self.tiers.admit(newcomers)

    def recruit(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Today's accepted invitations: (newcomers, their sponsors); one sponsor per
        newcomer, chosen at random among the inviters it accepted."""
        people = self.people
        cfg = self.config
        members = people.members
        if cfg.invite == "once":
            senders = members[people.joined_day[members] == day - 1]
        else:
            senders = members[people.joined_day[members] < day]
        graph, draw = self.world.graph, self.world.streams.draw
        degree = graph.degree_of(senders)
        invites = binomial_from_uniform(draw(INVITES, senders), degree, cfg.invite_prob)
        first = (draw(FIRST_CONTACT, senders) * degree).astype(np.int64)
        inviter, contact, tie = graph.consecutive_contacts(senders, first, invites)
        open_ = people.role[contact] == CONSUMER
        inviter, contact, tie = inviter[open_], contact[open_], tie[open_]
        told = np.maximum(self.daily_income(inviter, day), cfg.income_claim)
        seen = self.world.trust.read(tie, day) * told
        accept = self.expected_benefit(contact, seen) >= self.joining_cost(contact)
        inviter, contact = inviter[accept], contact[accept]
        pick = pick_one(contact, lambda ids: draw(SPONSOR, ids))
        return contact[pick], inviter[pick]

    def expected_benefit(self, people_ids: np.ndarray, seen_income: np.ndarray) -> np.ndarray:
        """RMB a person expects from joining: over the horizon, its discount on own
        purchases plus the daily income it sees in its inviter (weighted by trust),
        and the retail value of any gift package, as far as it needs the goods."""
        horizon = self.config.horizon_days
        need = self.people.need[people_ids].max(axis=1)
        return horizon * (self.discount_value * need + seen_income) + self.package_value * need

    def joining_cost(self, people_ids: np.ndarray) -> np.ndarray:
        """RMB a person weighs against joining: the entry fee, the renewal fees over the
        horizon, and its personal effort cost."""
        return self.entry_fee + self.renewals + self.people.join_cost[people_ids]

    def daily_income(self, ids: np.ndarray, day: int) -> np.ndarray:
        """RMB of payouts a day, as others can see it (`per_day_seen`)."""
        people = self.people
        return per_day_seen(people.income[ids], people.joined_day[ids], day, self.review_days)


@numba.njit(cache=True)
def per_day_seen(cents: np.ndarray, joined_day: np.ndarray, day: int, period: int) -> np.ndarray:
    """RMB a day that a member's cumulative `cents` show to someone who looks: spread over
    its membership, but over at least one review period, so a newcomer's first sale is
    not read as a daily rate."""
    return cents / 100.0 / np.maximum(day - joined_day, period)
