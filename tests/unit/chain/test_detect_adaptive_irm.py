"""``detect_irm`` recognises an AdaptiveCurveIrm by ``rateAtTarget(id)`` and ``borrowRateView``.

No chain: a stand-in node answers the calls ``detect_irm`` makes (``eth_getCode``, the block's
timestamp, ``borrowRate`` as Morpho calls it, ``rateAtTarget(bytes32)``, ``borrowRateView``) by
decoding the calldata and evaluating an IRM in Python. This checks the plumbing (selectors,
ABI encoding, the market id, the block whose timestamp is used) and the decisions: a contract
that agrees on every probe is modelled with its stored rate at target; one that is off by a wei
on a single probe, answers a zero rate at target, or has no ``rateAtTarget`` is refused with
the reason. The math itself is checked against Morpho's JS port elsewhere; against a genuine
deployment only with a mainnet RPC (tests/chain/test_fork_morpho_mainnet.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak

from defisim.chain.errors import RpcError
from defisim.chain.fork import ForkInputError
from defisim.chain.fork_morpho import detect_irm
from defisim.engine.protocols.morpho_blue import (
    AdaptiveCurveIrm,
    FixedPriceOracle,
    FixedRateIrm,
    LinearUtilizationIrm,
    Market,
    MarketParams,
)
from defisim.engine.protocols.morpho_blue.adaptive_curve_irm import (
    INITIAL_RATE_AT_TARGET,
    adaptive_borrow_rate,
)

PARAMS_T = "(address,address,address,address,uint256)"
MARKET_T = "(uint128,uint128,uint128,uint128,uint128,uint128)"
SEL = {name: keccak(text=sig)[:4] for name, sig in {
    "borrowRate": f"borrowRate({PARAMS_T},{MARKET_T})",
    "borrowRateView": f"borrowRateView({PARAMS_T},{MARKET_T})",
    "rateAtTarget": "rateAtTarget(bytes32)",
}.items()}
MORPHO = "0x" + "bb" * 20
IRM = "0x" + "1a" * 20
PARAMS = ("0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20, IRM, 86 * 10**16)
MARKET_ID = keccak(abi_encode(["address", "address", "address", "address", "uint256"], list(PARAMS)))
LABEL = "0x" + MARKET_ID.hex()
BLOCK, TS = 21_000_000, 1_730_000_000
LIVE = (10**13, 10**19, 9 * 10**12, 9 * 10**18, TS - 3 * 3600, 0)  # 90 % used, last touched 3 h ago
STORED = 2 * INITIAL_RATE_AT_TARGET + 12_345


class FakeNode:
    """Answers ``detect_irm``'s calls at block ``BLOCK`` (timestamp ``TS``) from a Python IRM.

    ``rate(selector, market)`` gives the IRM's answer; ``stored`` is its ``rateAtTarget(id)``
    (``None``: the selector reverts).
    """

    def __init__(self, rate: Callable[[bytes, Market], int], stored: int | None = STORED) -> None:
        self.rate = rate
        self.stored = stored
        self.calls: list[tuple[bytes, Any, str | None]] = []

    def request(self, method: str, params: Any) -> Any:
        if method == "eth_getCode":
            return "0x6080"
        if method == "eth_getBlockByNumber":
            assert params[0] == hex(BLOCK)
            return {"number": hex(BLOCK), "timestamp": hex(TS)}
        raise AssertionError(method)

    def block_number(self) -> int:
        return BLOCK

    def call(self, to: str, data: bytes, block: str | int = "latest", sender: str | None = None) -> bytes:
        assert to == IRM
        sel = data[:4]
        self.calls.append((sel, block, sender))
        if sel == SEL["rateAtTarget"]:
            if self.stored is None:
                raise RpcError("eth_call", 3, "execution reverted")
            assert data[4:] == MARKET_ID
            return abi_encode(["int256"], [self.stored])
        if sel in (SEL["borrowRate"], SEL["borrowRateView"]):
            params, market = abi_decode([PARAMS_T, MARKET_T], data[4:])
            assert params[3].lower() == IRM and params[4] == PARAMS[4]
            if sel == SEL["borrowRate"]:
                assert sender == MORPHO  # borrowRate answers Morpho only
            else:
                assert block == BLOCK  # the view is read at the block whose timestamp the model uses
            return abi_encode(["uint256"], [self.rate(sel, Market(*market))])
        raise RpcError("eth_call", 3, "execution reverted")


def adaptive(stored: int = STORED) -> Callable[[bytes, Market], int]:
    model = AdaptiveCurveIrm(rate_at_target={LABEL: stored})
    params = MarketParams(LABEL, "", "", FixedPriceOracle(), model, PARAMS[4])
    return lambda _sel, market: model.borrow_rate_view(params, market, TS)


def test_an_agreeing_adaptive_curve_irm_is_modelled_with_its_stored_rate() -> None:
    node = FakeNode(adaptive())
    irm, kind = detect_irm(node, MORPHO, PARAMS, LIVE)  # type: ignore[arg-type]
    assert kind == "adaptive-curve" and isinstance(irm, AdaptiveCurveIrm)
    assert irm.rates_at_target() == {LABEL: STORED}
    views = [c for c in node.calls if c[0] == SEL["borrowRateView"]]
    assert len(views) == 9  # the live market, four probe states, four with a day/week/year elapsed
    # the model's rate on the live market is the contract's: the average over 3 h at 90 % (err 0)
    live = Market(*LIVE)
    assert irm.borrow_rate_view(MarketParams(LABEL, "", "", FixedPriceOracle(), irm, PARAMS[4]), live, TS) == \
        adaptive_borrow_rate(9 * 10**17, STORED, 3 * 3600)[0] == STORED


@pytest.mark.parametrize("probe", range(9))
def test_one_wei_off_on_one_probe_is_refused(probe: int) -> None:
    honest = adaptive()
    seen: list[Market] = []

    def rate(sel: bytes, market: Market) -> int:
        if sel == SEL["borrowRateView"]:
            seen.append(market)
            if len(seen) - 1 == probe:
                return honest(sel, market) + 1
        return honest(sel, market)

    with pytest.raises(ForkInputError) as info:
        detect_irm(FakeNode(rate), MORPHO, PARAMS, LIVE)  # type: ignore[arg-type]
    text = str(info.value)
    assert "is not modelled" in text and "not an AdaptiveCurveIrm" in text and "borrowRateView answers" in text
    assert f"rateAtTarget(id) is {STORED}" in text


def test_borrow_rate_as_morpho_calls_it_must_agree_too() -> None:
    honest = adaptive()

    def rate(sel: bytes, market: Market) -> int:
        return honest(sel, market) + (sel == SEL["borrowRate"])

    with pytest.raises(ForkInputError, match="its borrowRate answers"):
        detect_irm(FakeNode(rate), MORPHO, PARAMS, LIVE)  # type: ignore[arg-type]


@pytest.mark.parametrize(("stored", "words"), [
    (None, "does not answer rateAtTarget(id)"),
    (0, "rateAtTarget(id) is 0"),
    (-5, "rateAtTarget(id) is -5"),
])
def test_no_usable_rate_at_target_is_refused(stored: int | None, words: str) -> None:
    with pytest.raises(ForkInputError) as info:
        detect_irm(FakeNode(adaptive(), stored=stored), MORPHO, PARAMS, LIVE)  # type: ignore[arg-type]
    assert words in str(info.value) and "AdaptiveCurveIrm" in str(info.value)


def test_the_stateless_kinds_still_come_first() -> None:
    """An IRM answering like IrmMock or a constant is modelled so even if it also has a
    ``rateAtTarget`` (a constant-answer stub answers every selector)."""
    mock = LinearUtilizationIrm()
    dummy = MarketParams("x", "", "", FixedPriceOracle(), None, PARAMS[4])
    irm, kind = detect_irm(FakeNode(lambda _s, m: mock.borrow_rate(dummy, m)), MORPHO, PARAMS, LIVE)  # type: ignore[arg-type]
    assert kind == "linear-utilization" and irm == mock
    irm, kind = detect_irm(FakeNode(lambda _s, _m: 1234), MORPHO, PARAMS, LIVE)  # type: ignore[arg-type]
    assert kind == "fixed" and irm == FixedRateIrm(1234)
