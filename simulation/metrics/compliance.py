"""Compliance indicators of pyramid-selling exposure, each with its threshold and source.

Each indicator is a small function of arrays, so it can be checked on a hand-built
structure; `RULES` says which values raise a flag, under which rule and source,
and how serious it is (administrative, criminal or civil).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import numpy as np

DIRECT_SELLING_CAP = 0.30
CRIMINAL_PARTICIPANTS = 30
CRIMINAL_LEVELS = 3


@dataclass(frozen=True)
class Rule:
    """A legal or evidential rule: flag when `indicator` `compare` `threshold`."""

    rule: str
    indicator: str
    compare: str
    threshold: float
    source: str
    severity: str

    def breached(self, value: float) -> bool:
        ops = {">": operator.gt, ">=": operator.ge, "<": operator.lt}
        return bool(ops[self.compare](value, self.threshold))


RULES = (
    Rule(
        "headcount pay (拉人头)",
        "recruitment_reward_share",
        ">",
        0.0,
        "Regulation on Prohibition of Pyramid Selling (禁止传销条例, 2005) Art. 7(1): pay "
        "based on the number of people recruited",
        "administrative",
    ),
    Rule(
        "rewards not resting on retail sales",
        "recruitment_reward_share",
        ">",
        1 / 3,
        "FTC v. Herbalife (2016): at least two thirds of rewards must rest on verifiable "
        "retail sales; FTC v. FHTM (2014): over 81% of payouts were for recruiting",
        "civil",
    ),
    Rule(
        "entry fee (入门费)",
        "entry_fee_share",
        ">",
        0.0,
        "Regulation on Prohibition of Pyramid Selling (禁止传销条例, 2005) Art. 7(2): a fee "
        "or a mandatory purchase to join",
        "administrative",
    ),
    Rule(
        "team pay (团队计酬)",
        "paid_depth",
        ">=",
        2,
        "Regulation on Prohibition of Pyramid Selling (禁止传销条例, 2005) Art. 7(3); "
        "SPC/SPP/MPS opinion (2013): pay on the sales of a "
        "downline of three or more levels",
        "administrative",
    ),
    Rule(
        "criminal pyramid organisation",
        "criminal_threshold_trees",
        ">",
        0,
        "Criminal Law (刑法) Art. 224-1; SPC/SPP/MPS opinion (2013) §1: paid entry, pay on "
        "headcount, at least 30 participants in at least 3 levels",
        "criminal",
    ),
    Rule(
        "pay above 30% of own sales",
        "over_direct_selling_cap_share",
        ">",
        0.0,
        "Direct Selling Regulation (直销管理条例, 2005) Art. 24: a seller's pay at most "
        "30% of its own sales",
        "administrative",
    ),
    Rule(
        "internal consumption",
        "internal_consumption_share",
        ">",
        0.5,
        "FTC v. Vemma (2016): a majority of sales must go to non-participants",
        "civil",
    ),
    Rule(
        "too few retail customers",
        "retail_customers_per_member",
        "<",
        10,
        "Amway (FTC 1979): sales to at least 10 different retail customers a month",
        "civil",
    ),
    Rule(
        "most participants lose money",
        "loss_fraction",
        ">",
        0.5,
        "FTC v. FHTM (2014): over 98% lost money; AARP Foundation (2018): nearly half of "
        "MLM participants lost money",
        "civil",
    ),
)

REFERENCES = {
    "income_gini": "concentration of members' income (0 equal, 1 one takes all)",
    "top1_income_share": "Amway (2012) 44%, Herbalife 66%, Nu Skin 81.7% of commissions "
    "went to the top 1%",
    "payout_ratio": "member pay as a share of net sales",
    "refund_rate": "share of orders refunded",
    "max_tree_depth": "deepest recruitment chain (levels below a tree's root)",
}


def share(part: float, whole: float) -> float:
    """part / whole, 0 when there is no whole."""
    return part / whole if whole else 0.0


def criminal_threshold_trees(
    tree_size: np.ndarray, tree_levels: np.ndarray, paid_entry: bool, headcount_pay: bool
) -> int:
    """Recruitment trees with ≥ 30 participants over ≥ 3 levels, counted when joining
    is paid for and recruiting is rewarded (the elements of Criminal Law Art. 224-1)."""
    if not (paid_entry and headcount_pay):
        return 0
    large = (tree_size >= CRIMINAL_PARTICIPANTS) & (tree_levels >= CRIMINAL_LEVELS)
    return int(np.count_nonzero(large))


def over_direct_selling_cap_share(income: np.ndarray, own_sales: np.ndarray) -> float:
    """Among paid members, the share whose pay exceeds 30% of their own retail sales."""
    paid = income > 0
    over = income[paid] > DIRECT_SELLING_CAP * own_sales[paid]
    return float(over.mean()) if paid.any() else 0.0


def median_or_zero(values: np.ndarray) -> float:
    return float(np.median(values)) if values.size else 0.0


def loss_fraction(net_income: np.ndarray) -> float:
    """Share of (ever-)members whose pay fell short of what they paid to join."""
    return float(np.mean(net_income < 0)) if net_income.size else 0.0


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: equal, → 1: one takes all)."""
    values = np.sort(np.asarray(values, dtype=np.float64))
    total = values.sum()
    if values.size == 0 or total <= 0:
        return 0.0
    n = values.size
    ranks = np.arange(1, n + 1)
    return float(2.0 * (ranks * values).sum() / (n * total) - (n + 1) / n)


def top_share(values: np.ndarray, fraction: float = 0.01) -> float:
    """Share of the total taken by the top `fraction` of people (at least one person)."""
    values = np.maximum(np.asarray(values, dtype=np.float64), 0.0)
    total = values.sum()
    if total <= 0:
        return 0.0
    k = max(1, int(np.ceil(fraction * values.size)))
    return float(np.partition(values, values.size - k)[-k:].sum() / total)


def flags(indicators: dict[str, Any]) -> list[dict[str, Any]]:
    """The rules the indicators breach, each with value, threshold, source and severity."""
    raised = []
    for rule in RULES:
        value = indicators[rule.indicator]
        if rule.breached(value):
            raised.append(
                {
                    "rule": rule.rule,
                    "indicator": rule.indicator,
                    "value": value,
                    "threshold": f"{rule.compare} {rule.threshold:g}",
                    "source": rule.source,
                    "severity": rule.severity,
                }
            )
    return raised
