"""Scenario files: the pydantic model, the loader with readable errors, and the load schedule.

Importing this package never imports Locust; only `fwload.scenario.shapes` does.
"""

from fwload.scenario.loader import load_scenario, with_overrides
from fwload.scenario.model import Scenario

__all__ = ["Scenario", "load_scenario", "with_overrides"]
