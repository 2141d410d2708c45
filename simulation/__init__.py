"""ShareLab: an agent-based simulation and policy lab for membership-based social e-commerce.

The names below load on first use, so that importing a part of the package (the
command, say) does not import all of it first.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulation.experiments.runner import Sweep
    from simulation.model import SocialCommerceModel
    from simulation.scenario import Scenario, ScenarioError, load_scenario

_HOMES = {
    "Scenario": "simulation.scenario",
    "ScenarioError": "simulation.scenario",
    "SocialCommerceModel": "simulation.model",
    "Sweep": "simulation.experiments.runner",
    "load_scenario": "simulation.scenario",
}
__all__ = ["Scenario", "ScenarioError", "SocialCommerceModel", "Sweep", "load_scenario"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'simulation' has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
