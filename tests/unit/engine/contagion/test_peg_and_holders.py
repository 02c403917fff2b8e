"""Holder-pressure rule by hand; the PSM arbitrageur holds the peg while the buffer lasts and
the AMM price breaks after."""

from __future__ import annotations

import textwrap

import yaml

from defisim.engine.agents.holder_pressure import (
    sell_fraction,
    unbacked_debt,
    unbacked_share,
)
from defisim.engine.contagion import PsmBufferDrained
from defisim.engine.ledger import Ledger
from defisim.engine.protocols.maker import MakerSystem
from defisim.engine.protocols.maker.dsmath import RAY, WAD
from defisim.scenario.assemble import build_world
from defisim.scenario.kinds.contagion import parts
from defisim.scenario.loader import scenario_from_dict

DAI = 10**18


def test_sell_fraction_rule() -> None:
    kappa, cap = WAD // 10, 2 * WAD // 1000  # 0.1, 0.2 %
    assert sell_fraction(0, kappa, cap) == 0
    assert sell_fraction(WAD // 100, kappa, cap) == WAD // 1000  # u = 1 %: 0.1 * 1 % = 0.1 %
    assert sell_fraction(5 * WAD // 100, kappa, cap) == cap  # 0.5 % capped at 0.2 %
    assert sell_fraction(WAD // 100, kappa, cap, u_min=2 * WAD // 100) == 0  # below u_min


def test_unbacked_share_by_hand() -> None:
    ledger = Ledger({"DAI": 18, "MKR": 18})
    system = MakerSystem("mk", ledger)
    ledger.mint("DAI", "holders", 1_000 * DAI)
    system.back_external_dai()
    vow = system.vow.address
    system.vat.suck(vow, "keeper", 50 * DAI * RAY)  # 50 DAI of debt on the Vow (sin)
    system.vat.suck("mk:genesis", vow, 20 * DAI * RAY)  # 20 DAI of surplus (joy)
    assert unbacked_debt(system) == 30 * DAI * RAY  # B - J - A = 50 - 20 - 0
    # u = 30 / 1000 DAI of supply = 3 %
    assert unbacked_share(system) == 3 * WAD // 100
    system.vat.suck("mk:genesis", vow, 40 * DAI * RAY)  # surplus now exceeds the debt
    assert unbacked_debt(system) == 0 and unbacked_share(system) == 0


SCENARIO = yaml.safe_load(textwrap.dedent("""
    name: peg-test
    seed: 3
    chain: {blocks: 40, base_fee_gwei: 5, background_load: 0.3, stress_load: 0.0}
    run: {check_invariants_every_blocks: 1}
    tokens:
      WETH: {decimals: 18}
      USDC: {decimals: 6}
      DAI: {decimals: 18}
      MKR: {decimals: 18}
    prices:
      model: scripted
      assets:
        WETH: {start: 2000}
        USDC: {start: 1.0}
        DAI: {start: 1.0}
    markets:
      - {kind: uniswap-v2, name: dai-usdc, tokens: [DAI, USDC], liquidity: {DAI: "5000000 DAI", USDC: "5000000 USDC"}}
    oracles:
      - {kind: osm, name: eth-osm, asset: WETH, source: reference, hop: 1h}
    protocols:
      - kind: maker
        name: maker
        dai: DAI
        gov: MKR
        Hole: "1000000 DAI"
        ilks:
          ETH-A: {gem: WETH, oracle: eth-osm, mat: 1.5, chop: 1.13, line: "1000000 DAI", dust: "100 DAI",
                  hole: "1000000 DAI"}
      - {kind: psm, name: psm, maker: maker, gem: USDC, tout: 0.001, line: "10000000 DAI",
         buffer: "1000000 USDC", drained_below: "1000 USDC"}
    agents:
      - {kind: peg-arbitrageur, name: arb, psm: psm, pool: dai-usdc, capital: {USDC: "2000000 USDC"}}
"""))


def test_peg_holds_while_the_psm_has_usdc_and_breaks_after() -> None:
    world = build_world(scenario_from_dict(SCENARIO))
    psm = parts(world)["psm"]["psm"]
    pool = world.markets["dai-usdc"]
    ledger = world.ledger
    ledger.mint("DAI", "seller", 3_000_000 * DAI)  # backed as genesis DAI at block 1
    prices: list[tuple[int, int]] = []
    for block in range(1, 31):
        if block >= 2:  # sell 100k DAI into the pool before each block
            pool.swap_exact_in(block, world.now(block), "seller", "DAI", 100_000 * DAI)
        world.run(block, 1)
        prices.append((psm.buffer(), pool.spot_price_e8("DAI", 10**8)))
    with_buffer = [p for b, p in prices if b > psm.drained_below]
    without = [p for b, p in prices if b <= psm.drained_below]
    assert with_buffer and without
    # the arbitrageur brings the pool back within the PSM fee (0.1 %) plus the pool fee (0.3 %)
    assert min(with_buffer) >= 10**8 * 995 // 1000
    assert without[-1] < 10**8 * 97 // 100  # nothing redeems once the buffer is gone
    assert world.log.of_type(PsmBufferDrained)
    assert world.invariant_errors() == []
