"""Built-in component kinds; importing this package registers them."""

from defisim.scenario.kinds import agents, markets, oracles, protocols

__all__ = ["agents", "markets", "oracles", "protocols"]
