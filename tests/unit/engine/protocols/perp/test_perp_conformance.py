"""A small conformance suite for the perp exchange (it is not a lending plug-in, so not the
lending suite), run on four configurations: deep venue, thin venue with a small fund, staged
liquidation, and no venue at all (everything deleveraged).

* a healthy account cannot be liquidated, and the refusal changes nothing;
* a liquidation acts only below maintenance and reduces or closes the position;
* a liquidation never increases the exchange's deficit beyond what it records: the loss
  beyond collateral is exactly ``fund_drawn + adl_haircut + socialized + unbacked``, no other
  account is pushed under water, the liquidated account is not left under water (unless
  recorded ``unbacked``) and the traders' total deficit does not grow;
* the books (ledger, open interest, conservation) stay consistent after every action.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from perp_env import ETH, ETH_PERP, T0, USD, PerpEnv  # type: ignore[import-not-found]

from defisim.engine.protocols.perp import LiquidationOutcome, StagedLiquidation
from defisim.engine.protocols.perp.mathlib import margin_requirement_ceil

_settings = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors])
NOW = T0 + 12


class PerpConformance:
    """Subclass with ``make()`` returning a fresh :class:`PerpEnv`."""

    def make(self) -> PerpEnv:
        raise NotImplementedError

    def _book(self, env: PerpEnv, side: int, leverage: float, size_eth: int) -> str:
        """The account under test plus two opposite traders (a 20x and a 2x one)."""
        size = side * size_eth * ETH
        need = margin_requirement_ceil(size, 3_000 * 10**8, 50_000, ETH, USD) + 1
        margin = max(need, int(size_eth * 3_000 / leverage) * USD)
        key = env.trader("alice", margin, ETH_PERP, size)
        env.trader("opp-hot", 450 * USD + 1, ETH_PERP, -side * 3 * ETH)
        env.trader("opp-cold", 20_000 * USD, ETH_PERP, -side * 4 * ETH)
        return key

    def _deficit(self, env: PerpEnv) -> int:
        return sum(max(0, -env.ex.equity(k)) for k in env.ex.accounts() if k != env.ex.vault_key)

    @_settings
    @given(side=st.sampled_from([1, -1]), leverage=st.floats(1.5, 20.0), size=st.integers(1, 40),
           move=st.floats(0.5, 1.5))
    def test_a_healthy_account_cannot_be_liquidated(self, side: int, leverage: float, size: int,
                                                    move: float) -> None:
        env = self.make()
        key = self._book(env, side, leverage, size)
        env.px[ETH_PERP] = int(env.px[ETH_PERP] * move)
        if env.ex.is_liquidatable(key):
            return  # not this property
        before = env.ex.snapshot(NOW)
        holdings = {t: env.ledger.holders(t) for t in ("USDC", "WETH")}
        out = env.ex.liquidate(1, NOW, "engine", key)
        assert not isinstance(out, LiquidationOutcome)
        assert out.reason == "account is healthy"
        assert env.ex.snapshot(NOW) == before
        assert {t: env.ledger.holders(t) for t in ("USDC", "WETH")} == holdings
        env.check()

    @_settings
    @given(side=st.sampled_from([1, -1]), leverage=st.floats(3.0, 20.0), size=st.integers(1, 40),
           move=st.floats(0.05, 0.45))
    def test_liquidation_reduces_or_closes_and_records_every_loss(self, side: int, leverage: float,
                                                                  size: int, move: float) -> None:
        env = self.make()
        key = self._book(env, side, leverage, size)
        env.px[ETH_PERP] = int(env.px[ETH_PERP] * (1 - side * move))  # against the account
        if not env.ex.is_liquidatable(key):
            return
        held = abs(env.ex.position(key, ETH_PERP)[0])
        equity = {k: env.ex.equity(k) for k in env.ex.accounts()}
        deficit, fund = self._deficit(env), env.ex.fund_balance()
        out = env.ex.liquidate(1, NOW, "engine", key)
        assert isinstance(out, LiquidationOutcome), out
        env.check()
        # acted only below maintenance; the position shrank or is gone
        assert out.equity_before == equity[key] < out.maintenance_before
        assert abs(env.ex.position(key, ETH_PERP)[0]) < held
        assert out.full == (env.ex.positions(key) == {})
        # the loss beyond collateral lands in exactly one place, and nowhere unrecorded
        assert out.bad_debt == out.fund_drawn + out.adl_haircut + out.socialized + out.unbacked
        assert env.ex.fund_balance() == fund - out.fund_drawn + out.protocol_fee
        for k, e in equity.items():
            if k not in (key, env.ex.vault_key) and e >= 0:
                assert env.ex.equity(k) >= 0
        if out.full and out.unbacked:
            assert env.ex.collateral(key) == -out.unbacked
        elif out.full:
            assert env.ex.collateral(key) >= 0
        assert self._deficit(env) <= deficit

    @_settings
    @given(leverage=st.floats(5.0, 20.0), size=st.integers(5, 60),
           path=st.lists(st.floats(0.9, 1.03), min_size=2, max_size=12))
    def test_books_stay_consistent_through_a_cascade(self, leverage: float, size: int, path: list[float]) -> None:
        env = self.make()
        self._book(env, 1, leverage, size)
        env.trader("bea", 2_000 * USD, ETH_PERP, 5 * ETH, isolated=True)
        now = NOW
        for step in path:
            now += 12
            env.px[ETH_PERP] = int(env.px[ETH_PERP] * step)
            env.ex.on_settlement(1, now)
            env.check()
            for key in env.ex.perp_liquidation_candidates(now):
                env.ex.liquidate(1, now, "engine", key)
                env.check()


class TestDeepVenue(PerpConformance):
    def make(self) -> PerpEnv:
        return PerpEnv()


class TestThinVenueSmallFund(PerpConformance):
    def make(self) -> PerpEnv:
        return PerpEnv(pool_weth=30, pool_usdc=90_000, fund=200 * USD)


class TestStaged(PerpConformance):
    def make(self) -> PerpEnv:
        return PerpEnv(staged=StagedLiquidation(threshold=10_000 * USD))


class TestNoVenue(PerpConformance):
    def make(self) -> PerpEnv:
        return PerpEnv(venue=False)
