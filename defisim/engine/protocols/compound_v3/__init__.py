"""Compound III (Comet): exact integer mirror of ``Comet.sol`` (see ``comet.py``).

Public pieces: :class:`Comet` (one market: base asset, collaterals, absorb and the collateral
store front), its configuration structs (:class:`CometConfiguration`, :class:`AssetConfig`),
stored structs and results, the records it produces (:mod:`.records`) and the arithmetic
library (:mod:`.cometmath`, :mod:`.constants`, :mod:`.errors`).
"""

from __future__ import annotations

from defisim.engine.protocols.compound_v3.comet import (
    MAX_AMOUNT,
    Comet,
    pack_asset_info,
)
from defisim.engine.protocols.compound_v3.errors import CometError
from defisim.engine.protocols.compound_v3.outcomes import (
    AbsorbedAccount,
    AbsorbResult,
    AccountSnapshot,
    BuyResult,
    CometSnapshot,
    SeizedCollateral,
)
from defisim.engine.protocols.compound_v3.records import (
    AbsorberPointsAccrued,
    CollateralBought,
    PositionAbsorbed,
    absorb_records,
)
from defisim.engine.protocols.compound_v3.types import (
    AssetConfig,
    AssetInfo,
    CometConfiguration,
    LiquidatorPoints,
    TotalsBasic,
    UserBasic,
)

__all__ = [
    "MAX_AMOUNT",
    "AbsorbResult",
    "AbsorbedAccount",
    "AbsorberPointsAccrued",
    "AccountSnapshot",
    "AssetConfig",
    "AssetInfo",
    "BuyResult",
    "CollateralBought",
    "Comet",
    "CometConfiguration",
    "CometError",
    "CometSnapshot",
    "LiquidatorPoints",
    "PositionAbsorbed",
    "SeizedCollateral",
    "TotalsBasic",
    "UserBasic",
    "absorb_records",
    "pack_asset_info",
]
