"""Maker (dss) revert reasons and the error that carries them.

:class:`MakerError` holds the exact ``require`` string of the dss contract in ``reason``
(``"Dog/not-unsafe"``), so a refusal in the simulator reads like the revert on chain. dss
0.6 arithmetic helpers (``add``/``sub``/``mul``) revert without a message; their reason here
is :data:`MATH` (with the operation in ``detail``).
"""

from __future__ import annotations

from defisim.errors import DefisimError

__all__ = ["MATH", "MakerError"]

MATH = "dss/math"
"""A checked ``add``/``sub``/``mul`` failed (the contracts revert with no message)."""

# Vat
VAT_NOT_LIVE = "Vat/not-live"
VAT_ILK_NOT_INIT = "Vat/ilk-not-init"
VAT_ILK_ALREADY_INIT = "Vat/ilk-already-init"
VAT_CEILING_EXCEEDED = "Vat/ceiling-exceeded"
VAT_NOT_SAFE = "Vat/not-safe"
VAT_NOT_ALLOWED = "Vat/not-allowed"
VAT_NOT_ALLOWED_U = "Vat/not-allowed-u"
VAT_NOT_ALLOWED_V = "Vat/not-allowed-v"
VAT_NOT_ALLOWED_W = "Vat/not-allowed-w"
VAT_DUST = "Vat/dust"
# Jug
JUG_ALREADY_INIT = "Jug/ilk-already-init"
JUG_RHO_NOT_UPDATED = "Jug/rho-not-updated"
JUG_INVALID_NOW = "Jug/invalid-now"
# Dog
DOG_NOT_LIVE = "Dog/not-live"
DOG_NOT_UNSAFE = "Dog/not-unsafe"
DOG_LIMIT_HIT = "Dog/liquidation-limit-hit"
DOG_DUSTY_PARTIAL = "Dog/dusty-auction-from-partial-liquidation"
DOG_NULL_AUCTION = "Dog/null-auction"
DOG_OVERFLOW = "Dog/overflow"
DOG_CHOP_LT_WAD = "Dog/file-chop-lt-WAD"
# Clipper
CLIP_ZERO_TAB = "Clipper/zero-tab"
CLIP_ZERO_LOT = "Clipper/zero-lot"
CLIP_ZERO_USR = "Clipper/zero-usr"
CLIP_ZERO_TOP = "Clipper/zero-top-price"
CLIP_INVALID_PRICE = "Clipper/invalid-price"
CLIP_NOT_RUNNING = "Clipper/not-running-auction"
CLIP_CANNOT_RESET = "Clipper/cannot-reset"
CLIP_NEEDS_RESET = "Clipper/needs-reset"
CLIP_TOO_EXPENSIVE = "Clipper/too-expensive"
CLIP_NO_PARTIAL = "Clipper/no-partial-purchase"
CLIP_STOPPED = "Clipper/stopped-incorrect"
# Abaci
STAIRSTEP_CUT_GT_RAY = "StairstepExponentialDecrease/cut-gt-RAY"
EXPONENTIAL_CUT_GT_RAY = "ExponentialDecrease/cut-gt-RAY"
# Vow
VOW_WAIT_NOT_FINISHED = "Vow/wait-not-finished"
VOW_INSUFFICIENT_SURPLUS = "Vow/insufficient-surplus"
VOW_INSUFFICIENT_DEBT = "Vow/insufficient-debt"
VOW_NOT_ENOUGH_ASH = "Vow/not-enough-ash"
VOW_SURPLUS_NOT_ZERO = "Vow/surplus-not-zero"
VOW_DEBT_NOT_ZERO = "Vow/debt-not-zero"
VOW_FILE_UNRECOGNIZED = "Vow/file-unrecognized-param"
# Cat
CAT_NOT_LIVE = "Cat/not-live"
CAT_NOT_UNSAFE = "Cat/not-unsafe"
CAT_LIMIT_HIT = "Cat/liquidation-limit-hit"
CAT_NULL_AUCTION = "Cat/null-auction"
CAT_OVERFLOW = "Cat/overflow"
# Flipper
FLIP_GUY_NOT_SET = "Flipper/guy-not-set"
FLIP_FINISHED_TIC = "Flipper/already-finished-tic"
FLIP_FINISHED_END = "Flipper/already-finished-end"
FLIP_LOT_NOT_MATCHING = "Flipper/lot-not-matching"
FLIP_HIGHER_THAN_TAB = "Flipper/higher-than-tab"
FLIP_BID_NOT_HIGHER = "Flipper/bid-not-higher"
FLIP_INSUFFICIENT_INCREASE = "Flipper/insufficient-increase"
FLIP_NOT_MATCHING_BID = "Flipper/not-matching-bid"
FLIP_TEND_NOT_FINISHED = "Flipper/tend-not-finished"
FLIP_LOT_NOT_LOWER = "Flipper/lot-not-lower"
FLIP_INSUFFICIENT_DECREASE = "Flipper/insufficient-decrease"
FLIP_NOT_FINISHED = "Flipper/not-finished"
FLIP_BID_ALREADY_PLACED = "Flipper/bid-already-placed"
# Flapper (surplus auctions)
FLAP_NOT_LIVE = "Flapper/not-live"
FLAP_OVER_LID = "Flapper/over-lid"
FLAP_NOT_FINISHED = "Flapper/not-finished"
FLAP_BID_ALREADY_PLACED = "Flapper/bid-already-placed"
FLAP_GUY_NOT_SET = "Flapper/guy-not-set"
FLAP_FINISHED_TIC = "Flapper/already-finished-tic"
FLAP_FINISHED_END = "Flapper/already-finished-end"
FLAP_LOT_NOT_MATCHING = "Flapper/lot-not-matching"
FLAP_BID_NOT_HIGHER = "Flapper/bid-not-higher"
FLAP_INSUFFICIENT_INCREASE = "Flapper/insufficient-increase"
FLAP_FILE_UNRECOGNIZED = "Flapper/file-unrecognized-param"
# Flopper (debt auctions)
FLOP_NOT_LIVE = "Flopper/not-live"
FLOP_NOT_FINISHED = "Flopper/not-finished"
FLOP_BID_ALREADY_PLACED = "Flopper/bid-already-placed"
FLOP_GUY_NOT_SET = "Flopper/guy-not-set"
FLOP_FINISHED_TIC = "Flopper/already-finished-tic"
FLOP_FINISHED_END = "Flopper/already-finished-end"
FLOP_NOT_MATCHING_BID = "Flopper/not-matching-bid"
FLOP_LOT_NOT_LOWER = "Flopper/lot-not-lower"
FLOP_INSUFFICIENT_DECREASE = "Flopper/insufficient-decrease"
FLOP_FILE_UNRECOGNIZED = "Flopper/file-unrecognized-param"
# MKR (DSToken)
GOV_INSUFFICIENT = "ds-token-insufficient-balance"
# Joins and DAI
JOIN_INSUFFICIENT = "GemJoin/insufficient-balance"
DAI_INSUFFICIENT = "Dai/insufficient-balance"
# defisim (not a contract revert)
WRONG_MODE = "defisim/wrong-liquidation-module"
UNKNOWN_ILK = "defisim/unknown-ilk"
FLOP_UNKNOWN_GAL = "defisim/flop-gal-is-not-the-vow"
VOW_NO_AUCTION_HOUSE = "defisim/vow-has-no-auction-house"


class MakerError(DefisimError, ValueError):
    """An action the dss contracts would revert; ``reason`` is the revert string."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)
