"""Built-in component kinds; importing this package registers them."""

from defisim.scenario.kinds import agents, markets, oracles, protocols
from defisim.scenario.kinds import morpho_blue  # noqa: F401  (registers "morpho-blue")

__all__ = ["agents", "markets", "oracles", "protocols"]
