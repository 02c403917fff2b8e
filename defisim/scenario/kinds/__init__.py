"""Built-in component kinds; importing this package registers them."""

from defisim.scenario.kinds import agents, markets, oracles, protocols
from defisim.scenario.kinds import morpho_blue  # noqa: F401  (registers "morpho-blue")
from defisim.scenario.kinds import maker  # noqa: F401  (registers "maker", "maker-keeper")
from defisim.scenario.kinds import compound_v3  # noqa: F401  (registers "compound-v3", "absorber", "collateral-buyer")
from defisim.scenario.kinds import perp  # noqa: F401  (registers "perp", "perp-liquidator")
from defisim.scenario.kinds import contagion  # noqa: F401  (registers "psm", "aave-static-atoken", "receipt-rate", "peg-arbitrageur", "holder-pressure")

__all__ = ["agents", "markets", "oracles", "protocols"]
