"""Liquidation: venue fill and fee, insurance-fund draw, ADL ranking and amounts,
socialisation, staged steps with cooldown and backstop, refusals. All numbers hand-derived.

Uniswap V2 fills are ``getAmountOut``: ``out = in * 9970 * R_out // (R_in * 10000 + in * 9970)``.
"""

from __future__ import annotations

from perp_env import ETH, ETH_PERP, T0, USD, PerpEnv  # type: ignore[import-not-found]

from defisim.engine.protocols.perp import (
    DeleveragingFill,
    LiquidationFilled,
    LiquidationOutcome,
    LiquidationRefusal,
    PositionsDeleveraged,
    StagedLiquidation,
)
from defisim.engine.records import (
    BadDebtRealized,
    BadDebtSocialized,
    InsuranceFundDrawn,
    InsuranceFundFunded,
    SwapExecuted,
)

NOW = T0 + 12


def liquidate(env: PerpEnv, key: str, now: int = NOW, block: int = 1) -> LiquidationOutcome:
    out = env.ex.liquidate(block, now, "engine", key)
    assert isinstance(out, LiquidationOutcome), out
    env.check()
    return out


def of(out: LiquidationOutcome, cls: type) -> list:
    return [r for r in out.records if isinstance(r, cls)]


def test_venue_close_realises_the_fill_and_charges_the_fee(env: PerpEnv) -> None:
    key = env.trader("alice", 1_000 * USD, ETH_PERP, 5 * ETH)
    env.price(ETH_PERP, 2_880)   # equity 400 < MMR 432; the pool still prices 3,000
    quote = env.ex.quote_liquidation(NOW, key)
    out = liquidate(env, key)
    # the vault sells 5 WETH into 1,000 WETH / 3,000,000 USDC:
    # 5e18 * 9970 * 3e12 // (1000e18 * 10000 + 5e18 * 9970) = 14,880,819,116
    fill = 14_880_819_116
    # realised: fill - 15,000 USDC of entry = -119,180,884 -> collateral 880,819,116
    # fee: ceil(14,880,819,116 * 1.5 %) = ceil(223,212,286.74) = 223,212,287
    assert (out.path, out.full, out.staged) == ("venue", True, False)
    assert out.debt_repaid == fill
    assert out.protocol_fee == 223_212_287
    assert env.ex.collateral(key) == 880_819_116 - 223_212_287 == 657_606_829
    assert out.collateral_seized == 1_000 * USD - 657_606_829       # loss + fee
    assert out.bad_debt == out.fund_drawn == out.adl_haircut == out.socialized == 0
    # health before: 400 / 432 = 0.925925... WAD
    assert out.health_before == 925_925_925_925_925_925
    assert out.health_after == 2**256 - 1
    assert env.ex.fund_balance() == 223_212_287
    # the vault bought the long at the fill and hedged in the pool: flat in the perp
    assert env.ex.position(env.ex.vault_key, ETH_PERP) == (0, 0)
    assert (env.pool.reserve0, env.pool.reserve1) == (1_005 * ETH, 3_000_000 * USD - fill)
    swap, = of(out, SwapExecuted)
    assert (swap.trader, swap.token_in, swap.amount_in, swap.amount_out) == ("vault:perp", "WETH", 5 * ETH, fill)
    filled, = of(out, LiquidationFilled)
    # average price 14,880.819116 / 5 = 2,976.1638232 USD
    assert (filled.size, filled.notional, filled.price, filled.route) == (5 * ETH, fill, 297_616_382_320, "venue")
    funded, = of(out, InsuranceFundFunded)
    assert (funded.amount, funded.source, funded.balance_after) == (223_212_287, "liquidation fee", 223_212_287)
    # the quote promised exactly this
    assert isinstance(quote, LiquidationOutcome)
    assert (quote.debt_repaid, quote.protocol_fee, quote.collateral_seized) == (fill, 223_212_287, out.collateral_seized)


def test_a_shortfall_at_the_venue_is_paid_by_the_insurance_fund() -> None:
    env = PerpEnv(pool_weth=50, pool_usdc=150_000, fund=1_000 * USD)
    key = env.trader("alice", 1_000 * USD, ETH_PERP, 5 * ETH)
    env.price(ETH_PERP, 2_880)
    out = liquidate(env, key)
    # 5e18 * 9970 * 150,000e6 // (50e18 * 10000 + 5e18 * 9970) = 13,599,163,408
    # collateral 1,000 + 13,599.163408 - 15,000 = -400.836592: the fund (1,000) pays it
    assert out.path == "venue"
    assert out.bad_debt == out.fund_drawn == 400_836_592
    assert out.protocol_fee == 0                      # nothing left to pay it from
    assert out.collateral_seized == 1_000 * USD       # all its own collateral went
    assert env.ex.collateral(key) == 0
    assert env.ex.fund_balance() == 1_000 * USD - 400_836_592 == 599_163_408
    bad, = of(out, BadDebtRealized)
    drawn, = of(out, InsuranceFundDrawn)
    assert (bad.account, bad.asset, bad.amount, bad.amount_usd) == (key, "USDC", 400_836_592, 40_083_659_200)
    assert (drawn.amount, drawn.balance_after) == (400_836_592, 599_163_408)


def _three_traders(env: PerpEnv) -> tuple[str, str, str]:
    alice = env.trader("alice", 1_000 * USD, ETH_PERP, 5 * ETH)      # long 15,000
    dave = env.trader("dave", 450 * USD, ETH_PERP, -3 * ETH)         # short 9,000 at 20x (IM 450)
    bob = env.trader("bob", 20_000 * USD, ETH_PERP, -10 * ETH)       # short 30,000, low leverage
    return alice, dave, bob


def test_adl_ranks_by_profit_times_leverage_and_covers_the_deficit() -> None:
    """Fund 100 < the venue's 400.84 shortfall: ADL. At 2,700 alice is 500 under water
    (1,000 - 5 x 300); the fund pays its 100, ADL the other 400 at the bankruptcy price."""
    env = PerpEnv(pool_weth=50, pool_usdc=150_000, fund=100 * USD)
    alice, dave, bob = _three_traders(env)
    env.price(ETH_PERP, 2_700)
    out = liquidate(env, alice)
    # ranking at 2,700: dave profit 900, equity 1,350, notional 8,100 -> 900 x 8,100 / 1,350
    # = 5,400; bob profit 3,000, equity 23,000, notional 27,000 -> 3,521.739...: dave first
    # although bob has more profit
    d, b = of(out, DeleveragingFill)
    assert (d.account, d.rank, d.score, d.size) == (dave, 0, 5_400 * USD, -3 * ETH)
    assert (b.account, b.rank, b.score, b.size) == (bob, 1, 3_521_739_130, -2 * ETH)
    # dave takes 3 of 5: ceil(400 x 3 / 5) = 240 (cap: his 900 profit); bob the last 2: 160
    assert (d.haircut, d.notional) == (240 * USD, 8_100 * USD)
    assert (b.haircut, b.notional) == (160 * USD, 5_400 * USD)   # floor(5 x 2,700) - 8,100
    assert (out.path, out.bad_debt, out.fund_drawn, out.adl_haircut, out.socialized) == (
        "adl", 500 * USD, 100 * USD, 400 * USD, 0)
    assert out.protocol_fee == 0
    # alice: 1,000 + 100 - 900 - 600 + 240 + 160 = 0
    assert env.ex.collateral(alice) == 0 and env.ex.positions(alice) == {}
    # dave: 450 + 900 - 240; bob: 20,000 + 600 - 160 and 8 ETH short left at 3,000
    assert env.ex.collateral(dave) == 1_110 * USD and env.ex.positions(dave) == {}
    assert env.ex.collateral(bob) == 20_440 * USD
    assert env.ex.position(bob, ETH_PERP) == (-8 * ETH, -24_000 * USD)
    assert env.ex.fund_balance() == 0
    adl, = of(out, PositionsDeleveraged)
    assert (adl.account, adl.size, adl.price, adl.counterparties, adl.haircut, adl.unmatched_size) == (
        alice, 5 * ETH, 2_700 * 10**8, 2, 400 * USD, 0)
    bad, = of(out, BadDebtRealized)
    drawn, = of(out, InsuranceFundDrawn)
    assert (bad.amount, drawn.amount, drawn.balance_after) == (500 * USD, 100 * USD, 0)
    assert not of(out, SwapExecuted)             # off-book: no price impact
    assert (env.pool.reserve0, env.pool.reserve1) == (50 * ETH, 150_000 * USD)
    assert [f.route for f in of(out, LiquidationFilled)] == ["adl", "adl"]


def test_adl_of_an_account_above_water_at_the_mark_carries_no_haircut() -> None:
    """At 2,880 alice has 400 of equity, but the venue would leave a 400.84 shortfall the
    100 fund cannot pay: she is deleveraged at the mark (Hyperliquid: at the oracle price)."""
    env = PerpEnv(pool_weth=50, pool_usdc=150_000, fund=100 * USD)
    alice, dave, bob = _three_traders(env)
    env.price(ETH_PERP, 2_880)
    out = liquidate(env, alice)
    d, b = of(out, DeleveragingFill)
    # dave: profit 360, equity 810, notional 8,640 -> 3,840; bob: 1,200 x 28,800 / 21,200
    assert (d.account, d.score, d.haircut, d.notional) == (dave, 3_840 * USD, 0, 8_640 * USD)
    assert (b.account, b.score, b.haircut, b.notional) == (bob, 1_630_188_679, 0, 5_760 * USD)
    # alice realises -360 - 240 = -600, keeps 400, pays min(1.5 % of 14,400 = 216, 400)
    assert (out.path, out.bad_debt, out.protocol_fee) == ("adl", 0, 216 * USD)
    assert env.ex.collateral(alice) == 184 * USD
    assert out.collateral_seized == 816 * USD
    assert env.ex.fund_balance() == 316 * USD
    assert env.ex.collateral(dave) == 810 * USD and env.ex.collateral(bob) == 20_240 * USD


def test_what_adl_cannot_cover_is_socialised_pro_rata_to_equity() -> None:
    env = PerpEnv(pool_weth=50, pool_usdc=150_000)           # no insurance fund
    alice = env.trader("alice", 1_000 * USD, ETH_PERP, 5 * ETH)
    env.price(ETH_PERP, 2_750)
    # erin shorts 5 at 2,750; the vault, short 5 from alice at 3,000, closes it: +1,250
    erin = env.trader("erin", 700 * USD, ETH_PERP, -5 * ETH)
    vault = env.ex.vault_key
    assert env.ex.collateral(vault) == 10_001_250 * USD and env.ex.positions(vault) == {}
    env.price(ETH_PERP, 2_700)
    out = liquidate(env, alice)
    # deficit 500; erin's profit is only 5 x 50 = 250: ADL takes 250, 250 is socialised over
    # the positive equity: vault 10,001,250 and erin 700 (her 250 profit went to ADL)
    fill, = of(out, DeleveragingFill)
    assert (fill.account, fill.haircut) == (erin, 250 * USD)
    assert (out.bad_debt, out.fund_drawn, out.adl_haircut, out.socialized, out.unbacked) == (
        500 * USD, 0, 250 * USD, 250 * USD, 0)
    # 250e6 x 10,001,250 / 10,001,950 = 249,982,503.41; x 700 / 10,001,950 = 17,496.59: the
    # unit the floors leave goes to the larger remainder (erin)
    assert env.ex.collateral(vault) == 10_001_250 * USD - 249_982_503
    assert env.ex.collateral(erin) == 700 * USD - 17_497
    assert env.ex.collateral(alice) == 0
    social, = of(out, BadDebtSocialized)
    assert (social.amount, social.amount_usd) == (250 * USD, 25_000_000_000)


def test_size_no_profitable_counterparty_takes_goes_to_the_vault() -> None:
    env = PerpEnv(venue=False)                                  # nothing to close into
    alice = env.trader("alice", 1_000 * USD, ETH_PERP, 5 * ETH)
    env.price(ETH_PERP, 2_500)
    erin = env.trader("erin", 700 * USD, ETH_PERP, -5 * ETH)    # vault closes its short: +2,500
    env.price(ETH_PERP, 2_700)                                  # erin now loses: not eligible
    out = liquidate(env, alice)
    adl, = of(out, PositionsDeleveraged)
    assert (adl.counterparties, adl.haircut, adl.unmatched_size) == (0, 0, 5 * ETH)
    filled, = of(out, LiquidationFilled)
    assert (filled.route, filled.notional) == ("vault", 13_500 * USD)
    vault = env.ex.vault_key
    assert env.ex.position(vault, ETH_PERP) == (5 * ETH, 13_500 * USD)
    # alice: 1,000 - 1,500 = -500, socialised; erin has negative equity (700 - 1,000): the
    # vault (equity 10,002,500) bears all of it
    assert (out.bad_debt, out.socialized) == (500 * USD, 500 * USD)
    assert env.ex.collateral(vault) == 10_002_000 * USD
    assert env.ex.collateral(erin) == 700 * USD


STAGED = StagedLiquidation(threshold=10_000 * USD, step_ppm=200_000, cooldown_s=30, backstop_ppm=666_667)


def test_a_large_position_is_liquidated_in_20_percent_steps_with_a_cooldown() -> None:
    env = PerpEnv(staged=STAGED)
    key = env.trader("alice", 1_000 * USD, ETH_PERP, 5 * ETH)
    env.price(ETH_PERP, 2_880)  # equity 400 >= 2/3 of MMR 432 = 288: not the backstop
    out = liquidate(env, key, now=NOW)
    # 14,400 > 10,000: 20 % = 1 ETH; 1e18 * 9970 * 3e12 // (1000e18 * 10000 + 1e18 * 9970)
    # = 2,988,020,943; entry portion 3,000; fee ceil(44,820,314.145) = 44,820,315
    assert (out.staged, out.full, out.debt_repaid) == (True, False, 2_988_020_943)
    assert out.protocol_fee == 44_820_315
    assert out.cooldown_until == NOW + 30
    assert env.ex.collateral(key) == 943_200_628          # 1,000 - 11.979057 - 44.820315
    assert env.ex.position(key, ETH_PERP) == (4 * ETH, 12_000 * USD)
    assert out.collateral_seized == 56_799_372
    filled, = of(out, LiquidationFilled)
    assert (filled.size, filled.staged, filled.cooldown_until) == (ETH, True, NOW + 30)
    # 2,830: equity 943.200628 + 11,320 - 12,000 = 263.2 < MMR 339.6, above 2/3 of it (226.4)
    env.price(ETH_PERP, 2_830)
    before = env.ex.snapshot(NOW + 12)
    refused = env.ex.liquidate(2, NOW + 12, "engine", key)
    assert refused == LiquidationRefusal("liquidation cooldown", f"{key}: next step at {NOW + 30}")
    assert env.ex.can_liquidate(NOW + 12, key) == "liquidation cooldown"
    assert env.ex.snapshot(NOW + 12) == before
    # after the cooldown: 20 % of 4 = 0.8 ETH into the pool (1,001 WETH, 2,997,011,979,057):
    # 8e17 * 9970 * 2,997,011,979,057 // (1001e18 * 10000 + 8e17 * 9970) = 2,386,127,451
    out = liquidate(env, key, now=NOW + 30, block=3)
    assert (out.staged, out.debt_repaid, out.protocol_fee) == (True, 2_386_127_451, 35_791_912)
    assert env.ex.position(key, ETH_PERP) == (3_200_000_000_000_000_000, 9_600 * USD)
    # 943,200,628 + 2,386,127,451 - 2,400,000,000 - 35,791,912
    assert env.ex.collateral(key) == 893_536_167
    assert out.cooldown_until == NOW + 60


def test_below_the_backstop_everything_closes_at_once_even_in_cooldown() -> None:
    env = PerpEnv(staged=STAGED)
    key = env.trader("alice", 1_000 * USD, ETH_PERP, 5 * ETH)
    env.price(ETH_PERP, 2_880)
    liquidate(env, key, now=NOW)
    # 2,780: equity 943.200628 + 11,120 - 12,000 = 63.2 < 2/3 of MMR 333.6 = 222.4
    env.price(ETH_PERP, 2_780)
    out = liquidate(env, key, now=NOW + 12, block=2)
    # the remaining 4 ETH: 4e18 * 9970 * 2,997,011,979,057 // (1001e18 * 10000 + 4e18 * 9970)
    # = 11,892,762,672; collateral 943,200,628 + 11,892,762,672 - 12,000,000,000 = 835,963,300
    # fee ceil(178,391,440.08) = 178,391,441
    assert (out.staged, out.full, out.path) == (False, True, "venue")
    assert (out.debt_repaid, out.protocol_fee) == (11_892_762_672, 178_391_441)
    assert env.ex.collateral(key) == 657_571_859
    assert env.ex.positions(key) == {}


def test_refusals_change_nothing(env: PerpEnv) -> None:
    key = env.trader("alice", 1_000 * USD, ETH_PERP, 5 * ETH)
    before = env.ex.snapshot(NOW)
    ledger_before = {t: env.ledger.holders(t) for t in ("USDC", "WETH")}
    assert env.ex.liquidate(1, NOW, "engine", key).reason == "account is healthy"
    assert env.ex.liquidate(1, NOW, "engine", env.ex.vault_key).reason == "the vault is not liquidated"
    assert env.ex.liquidate(1, NOW, "engine", "ghost").reason == "unknown account"
    env.ledger.mint("USDC", "idle", USD)
    env.ex.deposit("idle", USD)
    env.deposits += USD
    assert env.ex.liquidate(1, NOW, "engine", "idle").reason == "no open positions"
    assert env.ex.snapshot(NOW).positions == before.positions
    assert {t: env.ledger.holders(t) for t in ("WETH",)} == {"WETH": ledger_before["WETH"]}
    env.check()


def test_generic_lending_liquidators_find_nothing(env: PerpEnv) -> None:
    key = env.trader("alice", 1_000 * USD, ETH_PERP, 5 * ETH)
    env.price(ETH_PERP, 2_700)
    assert env.ex.perp_liquidation_candidates(NOW) == [key]
    assert env.ex.liquidation_candidates(NOW) == []
    assert env.ex.largest_pair(NOW, key) is None
