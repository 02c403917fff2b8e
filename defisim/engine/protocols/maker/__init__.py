"""Maker (dss): exact integer mirror of the Vat, Jug, Spotter, Dog/Clipper + Abaci
(Liquidations 2.0), Cat/Flipper (Liquidations 1.2), Vow and its Flapper/Flopper surplus and
debt auctions, from ``makerdao/dss``.

Units are dss's: wad (1e18), ray (1e27), rad (1e45) — see :mod:`.dsmath`. One module per
contract (``vat``, ``jug``, ``spot``, ``dog``, ``clip``, ``abaci``, ``vow``, ``cat``,
``flip``, ``join``, ``flap``, ``flop``);
:class:`MakerSystem` wires a deployment and offers the engine- and keeper-facing interface.
"""

from __future__ import annotations

from defisim.engine.protocols.maker.abaci import (
    ExponentialDecrease,
    LinearDecrease,
    StairstepExponentialDecrease,
)
from defisim.engine.protocols.maker.config import (
    CalcConfig,
    FlapConfig,
    FlopConfig,
    IlkConfig,
    VowConfig,
    annual_to_duty,
    to_ray,
    to_wad,
)
from defisim.engine.protocols.maker.dsmath import RAD, RAY, WAD
from defisim.engine.protocols.maker.errors import MakerError
from defisim.engine.protocols.maker.outcomes import (
    AuctionStart,
    ClipView,
    DealOutcome,
    FlipView,
    MakerSnapshot,
    Refusal,
    TakeOutcome,
    VowAuctionView,
)
from defisim.engine.protocols.maker.system import MakerSystem, StaticFeed, vault_key

__all__ = [
    "RAD",
    "RAY",
    "WAD",
    "AuctionStart",
    "CalcConfig",
    "ClipView",
    "DealOutcome",
    "ExponentialDecrease",
    "FlapConfig",
    "FlipView",
    "FlopConfig",
    "IlkConfig",
    "LinearDecrease",
    "MakerError",
    "MakerSnapshot",
    "MakerSystem",
    "Refusal",
    "StairstepExponentialDecrease",
    "StaticFeed",
    "TakeOutcome",
    "VowAuctionView",
    "VowConfig",
    "annual_to_duty",
    "to_ray",
    "to_wad",
    "vault_key",
]
