"""Agents: liquidators and arbitrageurs (the actors that send transactions)."""

from defisim.engine.agents.arbitrageur import Arbitrageur
from defisim.engine.agents.liquidator import Liquidator

__all__ = ["Arbitrageur", "Liquidator"]
