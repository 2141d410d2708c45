"""ShareLab: an agent-based simulation and policy lab for membership-based social e-commerce."""

from simulation.experiments.runner import Sweep
from simulation.model import SocialCommerceModel
from simulation.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["Scenario", "ScenarioError", "SocialCommerceModel", "Sweep", "load_scenario"]
__version__ = "0.1.0"
