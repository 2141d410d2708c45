"""Static properties of a commission scheme, read off its rules before any run.

What a regulator or a strategist asks first: is there an entry payment, how deep
does pay go, is recruiting itself paid, how much of one sale can be paid out, how
large can pay be against a member's own sales (the 30% cap of 直销管理条例 Art. 24),
and what a member gains by enrolling a fake account under itself (a Sybil attack;
Emek et al., EC 2011, show geometric schemes are not Sybil-proof).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulation.mechanisms.commission.scheme import DIRECT_SELLING_CAP, CommissionScheme
from simulation.scenario.schema import Scenario


def audit(scenario: Scenario) -> dict[str, Any]:
    """The scheme's static properties, money in RMB and shares of a sale in [0, 1]."""
    config = scenario.commission
    scheme = CommissionScheme.from_scenario(scenario)
    discount = scenario.purchase.member_discount
    overrides = float(scheme.override_rates.sum())
    top_rate = float(scheme.direct_rate.max())
    per_sale = top_rate + overrides
    if scheme.payout_cap > 0:
        per_sale = min(per_sale, scheme.payout_cap)
    team_pay = overrides > 0 or scheme.differential or scheme.pays_on_headcount
    own_share = None if team_pay else top_rate
    first_override = float(scheme.override_rates[0]) if scheme.override_rates.size else 0.0
    climb = float(top_rate - scheme.direct_rate[0]) if scheme.differential else 0.0
    via_own_purchase = (first_override + climb) * (1 - discount)
    via_fake_seller = float(scheme.direct_rate[0]) + first_override + climb - discount
    first_bonus = float(scheme.recruiting_bonus[0]) / 100 if scheme.pays_on_headcount else 0.0
    return {
        "scheme": scenario.name,
        "entry_fee": config.entry_fee,
        "mandatory_package": config.package_cost > 0,
        "package_cost": config.package_cost,
        "renewal_fee_per_30_days": 30 * config.renewal_fee / config.renewal_days,
        "paid_depth": scheme.team_levels,
        "team_recipients_per_sale": scheme.team_recipients,
        "differential": scheme.differential,
        "headcount_pay": scheme.pays_on_headcount,
        "recruiting_bonus_total": float(np.sum(config.recruiting_bonus)),
        "max_payout_share_of_sale": per_sale,
        "max_pay_share_of_own_sales": own_share,
        "exceeds_direct_selling_cap": own_share is None or own_share > DIRECT_SELLING_CAP,
        "sybil_gain_per_100_rmb": 100 * max(via_own_purchase, via_fake_seller, 0.0),
        "sybil_enrolment_gain": first_bonus - config.entry_fee + config.package_cost,
    }
