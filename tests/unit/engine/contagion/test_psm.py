"""PSM exact arithmetic: fees, buffer drain, debt ceiling, and the Maker invariants."""

from __future__ import annotations

import pytest

from defisim.engine.contagion import PsmBufferDrained, PsmSwapped
from defisim.engine.ledger import Ledger
from defisim.engine.markets.psm import PegStabilityModule, PsmError
from defisim.engine.protocols.maker import MakerSystem
from defisim.engine.protocols.maker.dsmath import RAY, WAD

USDC = 10**6
DAI = 10**18


def make(tin: int = 0, tout: int = 0, line: int = 1_000 * DAI, drained_below: int = 0
         ) -> tuple[Ledger, MakerSystem, PegStabilityModule]:
    ledger = Ledger({"DAI": 18, "USDC": 6, "MKR": 18})
    system = MakerSystem("mk", ledger)
    psm = PegStabilityModule("psm", system, ilk="PSM-USDC-A", gem="USDC", tin=tin, tout=tout,
                             line=line, drained_below=drained_below, now=0)
    ledger.mint("USDC", "alice", 10_000 * USDC)
    return ledger, system, psm


def errors(ledger: Ledger, system: MakerSystem, psm: PegStabilityModule) -> list[str]:
    return ledger.conservation_errors() + system.invariant_errors() + psm.invariant_errors()


def test_sell_gem_mints_dai_minus_tin_and_pays_the_fee_to_the_vow() -> None:
    ledger, system, psm = make(tin=WAD // 1000)  # 0.1 %
    [rec] = psm.sell_gem(1, "alice", 1_000 * USDC)
    assert ledger.balance_of("DAI", "alice") == 1_000 * DAI - DAI  # 1000e18 - floor(1000e18 * 1e15 / 1e18)
    assert ledger.balance_of("USDC", "alice") == 9_000 * USDC
    assert system.vat.dai_of(system.vow.address) == DAI * RAY  # the fee is surplus (rad)
    assert psm.buffer() == 1_000 * USDC and psm.minted() == 1_000 * DAI
    assert ledger.balance_of("USDC", psm.join.address) == 1_000 * USDC
    assert isinstance(rec, PsmSwapped) and (rec.direction, rec.stable_amount, rec.fee) == ("sell-gem", 999 * DAI, DAI)
    system.back_external_dai()
    assert errors(ledger, system, psm) == []


def test_buy_gem_burns_dai_plus_tout_and_drains_the_buffer() -> None:
    ledger, system, psm = make(tout=WAD // 1000, drained_below=10 * USDC)
    psm.sell_gem(1, "alice", 1_000 * USDC)
    ledger.mint("DAI", "bob", 2_000 * DAI)
    system.back_external_dai()
    q = psm.quote_buy_gem(600 * USDC)
    assert (q.stable_amount, q.fee) == (600 * DAI + 6 * DAI // 10, 6 * DAI // 10)
    recs = psm.buy_gem(2, "bob", 600 * USDC)
    assert ledger.balance_of("USDC", "bob") == 600 * USDC
    assert ledger.balance_of("DAI", "bob") == 2_000 * DAI - q.stable_amount
    assert psm.buffer() == 400 * USDC and not any(isinstance(r, PsmBufferDrained) for r in recs)
    assert system.vat.dai_of(system.vow.address) == q.fee * RAY
    recs = psm.buy_gem(3, "bob", 395 * USDC)  # leaves 5 USDC <= 10 USDC: drained
    assert [type(r) for r in recs] == [PsmSwapped, PsmBufferDrained]
    assert psm.drained
    with pytest.raises(PsmError, match="PSM/insufficient-buffer"):
        psm.buy_gem(4, "bob", 6 * USDC)
    assert errors(ledger, system, psm) == []


def test_gem_for_dai_is_the_largest_affordable_amount() -> None:
    _, _, psm = make(tout=WAD // 1000)
    for dai in (1, 10**12, 10**12 + 10**9, 1_001 * DAI, 12_345_678_901_234_567_890):
        gem = psm.gem_for_dai(dai)
        assert psm.quote_buy_gem(gem).stable_amount <= dai
        assert psm.quote_buy_gem(gem + 1).stable_amount > dai


def test_debt_ceiling_refuses_sell_gem_and_changes_nothing() -> None:
    ledger, system, psm = make(line=500 * DAI)
    psm.sell_gem(1, "alice", 400 * USDC)
    assert psm.headroom() == 100 * DAI
    before = (ledger.balance_of("USDC", "alice"), ledger.supply("DAI"), psm.buffer())
    with pytest.raises(PsmError, match="Vat/ceiling-exceeded"):
        psm.sell_gem(2, "alice", 101 * USDC)
    assert (ledger.balance_of("USDC", "alice"), ledger.supply("DAI"), psm.buffer()) == before
    psm.sell_gem(3, "alice", 100 * USDC)
    assert psm.headroom() == 0
    assert errors(ledger, system, psm) == []


def test_invalid_fee_is_refused() -> None:
    ledger = Ledger({"DAI": 18, "USDC": 6, "MKR": 18})
    with pytest.raises(PsmError, match="invalid-fee"):
        PegStabilityModule("psm", MakerSystem("mk", ledger), ilk="P", gem="USDC", tin=WAD, tout=0, line=0)
