"""The product catalogue: each category's price, margin, quality, repurchase cycle
and shareability, as arrays indexed by product.

Without `[[products]]` the catalogue is one product described by `[purchase]`; each
product listed takes the `[purchase]` value for any key it leaves out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.scenario.schema import Scenario
from simulation.world.money import cents


@dataclass(frozen=True)
class Catalogue:
    """Per-product arrays; money in cents."""

    names: tuple[str, ...]
    price: np.ndarray
    member_price: np.ndarray
    cost_of_goods: np.ndarray
    price_factor: np.ndarray
    bad_experience: np.ndarray
    cycle: np.ndarray
    shareability: np.ndarray

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Catalogue:
        base = scenario.purchase
        entries = scenario.products or [None]

        def value(entry, key: str, default):
            found = getattr(entry, key, None) if entry is not None else None
            return default if found is None else found

        price = np.array([value(e, "price", base.price) for e in entries])
        market = np.array([value(e, "market_price", base.market_price) for e in entries])
        margin = np.array([value(e, "gross_margin", base.gross_margin) for e in entries])
        bad = np.array(
            [
                base.bad_experience_prob if value(e, "quality", None) is None else 1 - e.quality
                for e in entries
            ]
        )
        return cls(
            names=tuple(value(e, "name", "product") for e in entries),
            price=np.array([cents(p) for p in price]),
            member_price=np.array([cents(p * (1 - base.member_discount)) for p in price]),
            cost_of_goods=np.array(
                [cents(p * (1 - m)) for p, m in zip(price, margin, strict=True)]
            ),
            price_factor=(market / price) ** base.price_elasticity,
            bad_experience=bad,
            cycle=np.array([value(e, "repurchase_days", base.repurchase_days) for e in entries]),
            shareability=np.array([value(e, "shareability", 1.0) for e in entries]),
        )

    @property
    def size(self) -> int:
        return len(self.names)

    @property
    def mean_price(self) -> float:
        """RMB, the catalogue's average list price."""
        return float(self.price.mean()) / 100
