"""Morpho Blue on the simulator side of a validation run, and a scenario's seed for the chain.

* :func:`make_morpho` builds the :class:`~defisim.engine.protocols.morpho_blue.MorphoBlue` of a
  ``morpho-blue`` :class:`~defisim.chain.backend.MarketSpec`: the same markets the chain
  adapter deploys (``LinearUtilizationIrm`` = ``IrmMock``, a ``ChainlinkPairOracle`` over the
  spec's USD prices = ``PairOracle`` over two ``SettableAggregator`` feeds, fee recipient
  ``spec.treasury``).
* :class:`MorphoSim` runs validation actions on it exactly as
  :class:`~defisim.chain.adapters.morpho_blue.MorphoChain` runs them on chain (same contract
  calls, same funding rule, same ``2**256 - 1`` meaning "all").
* :func:`morpho_spec_and_seed` turns a seeded scenario instance into a ``MarketSpec`` and the
  seed actions that rebuild its block-0 state on a fresh deployment.
"""

from __future__ import annotations

from collections.abc import Callable

from defisim.chain.backend import (
    Action,
    Borrow,
    Liquidate,
    LiquidationResult,
    MarketSpec,
    MorphoMarketSpec,
    Repay,
    Supply,
    SupplyCollateral,
    Withdraw,
)
from defisim.chain.errors import ChainError
from defisim.engine.ledger import Ledger
from defisim.engine.protocols.morpho_blue import (
    ChainlinkPairOracle,
    LinearUtilizationIrm,
    MarketParams,
    MorphoBlue,
    MorphoError,
    chainlink_pair_price,
)
from defisim.engine.protocols.morpho_blue.constants import UINT256_MAX, VIRTUAL_SHARES
from defisim.errors import ScenarioError

__all__ = ["MorphoSim", "make_morpho", "morpho_spec_and_seed"]

Fund = Callable[[str, str, int], None]


def make_morpho(spec: MarketSpec, ledger: Ledger, prices: dict[str, int]) -> MorphoBlue:
    """The model of ``spec``: markets created at ``spec.start_time``, fees set, oracles reading
    ``prices`` (USD 8 dp per token, mutated by ``SetPrice``)."""
    if spec.irm not in ("linear-utilization", "none"):
        raise ChainError(f"Morpho Blue IRM {spec.irm!r} has no on-chain counterpart")
    mb = MorphoBlue(spec.name, ledger, prices.__getitem__, fee_recipient=spec.treasury)
    irm = LinearUtilizationIrm() if spec.irm == "linear-utilization" else None
    mb.enable_irm(irm)
    for m in spec.markets:
        if not mb.is_lltv_enabled(m.lltv):
            mb.enable_lltv(m.lltv)
        oracle = ChainlinkPairOracle(
            lambda c=m.collateral: prices[c], lambda q=m.loan: prices[q],
            spec.tokens[m.collateral], spec.tokens[m.loan],
        )
        mb.create_market(spec.start_time, MarketParams(m.name, m.loan, m.collateral, oracle, irm, m.lltv))
        if m.fee:
            mb.set_fee(spec.start_time, m.name, m.fee)
    return mb


class MorphoSim:
    """Validation actions on a :class:`MorphoBlue` (see ``MorphoChain.apply`` for the calls).

    ``fund(account, token, amount)`` mints ``account`` up to ``amount`` before an action
    that pays tokens; a liquidator is topped up to ``totalBorrowAssets + 1`` (accrued), as on
    chain. Reverts of non-liquidation actions raise :class:`MorphoError`; liquidations return a
    :class:`LiquidationResult` (``reason`` set on a revert).
    """

    def __init__(self, morpho: MorphoBlue, fund: Fund) -> None:
        self.morpho = morpho
        self.fund = fund

    def _loan(self, market: str, asset: str) -> str:
        loan = self.morpho.market_params(market).loan_token
        if asset and asset != loan:
            raise ChainError(f"market {market} lends {loan}, not {asset}")
        return loan

    def apply(self, action: Action, now: int) -> LiquidationResult | None:
        mb = self.morpho
        match action:
            case Supply(account=acct, asset=a, amount=x, market=m):
                self.fund(acct, self._loan(m, a), x)
                mb.supply(now, acct, m, x, 0)
            case SupplyCollateral(account=acct, market=m, amount=x):
                self.fund(acct, mb.market_params(m).collateral_token, x)
                mb.supply_collateral(now, acct, m, x)
            case Borrow(account=acct, asset=a, amount=x, market=m):
                self._loan(m, a)
                mb.borrow(now, acct, m, x, 0)
            case Repay(account=acct, asset=a, amount=x, market=m):
                loan = self._loan(m, a)
                if x == UINT256_MAX:
                    shares = mb.position(m, acct).borrow_shares
                    self.fund(acct, loan, mb.borrow_assets(now, m, acct))
                    mb.repay(now, acct, m, 0, shares)
                else:
                    self.fund(acct, loan, x)
                    mb.repay(now, acct, m, x, 0)
            case Withdraw(account=acct, asset=a, amount=x, market=m):
                if a == mb.market_params(m).collateral_token:
                    if x == UINT256_MAX:
                        x = mb.position(m, acct).collateral
                    mb.withdraw_collateral(now, acct, m, x)
                else:
                    self._loan(m, a)
                    if x == UINT256_MAX:
                        mb.withdraw(now, acct, m, 0, mb.position(m, acct).supply_shares)
                    else:
                        mb.withdraw(now, acct, m, x, 0)
            case Liquidate():
                return self._liquidate(action, now)
            case _:
                raise ChainError(f"Morpho Blue cannot run {action!r}")
        return None

    def _liquidate(self, a: Liquidate, now: int) -> LiquidationResult:
        mb = self.morpho
        before = mb.health_factor(now, a.market, a.account)
        loan = mb.market_params(a.market).loan_token
        self.fund(a.liquidator, loan, mb.accrued_market(now, a.market).total_borrow_assets + 1)
        try:
            res = mb.liquidate(now, a.liquidator, a.market, a.account, a.seized_assets, a.repaid_shares)
        except MorphoError as exc:
            return LiquidationResult(reason=exc.reason, health_before=before)
        return LiquidationResult(debt_repaid=res.repaid_assets, collateral_seized=res.seized_assets,
                                 protocol_fee=0, health_before=before,
                                 health_after=mb.health_factor(now, a.market, a.account))


def _problem(mb: MorphoBlue, what: str) -> ScenarioError:
    return ScenarioError([(f"protocols.{mb.name}", what)])


def morpho_spec_and_seed(mb: MorphoBlue, now: int) -> tuple[MarketSpec, list[Action]]:
    """``(MarketSpec, seed actions)`` that rebuild ``mb``'s state at ``now`` on a fresh deployment.

    Needs fresh markets: created at ``now``, no interest accrued, no bad debt, so every supply
    and borrow share is worth exactly ``1 / VIRTUAL_SHARES`` asset (``totalSupplyShares ==
    1e6 * totalSupplyAssets``, the same for borrows, every position's shares a multiple of
    1e6). Then "supply ``shares / 1e6``", "supply collateral", "borrow ``shares / 1e6``"
    reproduce every share to the unit. Also needs the ``linear-utilization`` IRM (``IrmMock``)
    or none, and each market's oracle to be the pair of the protocol's USD feeds. Anything
    else raises :class:`ScenarioError` naming it.
    """
    irms = set()
    markets = []
    for name in mb.markets():
        p = mb.market_params(name)
        if p.irm is None:
            irms.add("none")
        elif isinstance(p.irm, LinearUtilizationIrm):
            irms.add("linear-utilization")
        else:
            raise _problem(mb, f"market {name}: validate needs irm {{kind: linear-utilization}} (Morpho's "
                               f"IrmMock on chain), not {type(p.irm).__name__}")
        want = chainlink_pair_price(mb.usd_price(p.collateral_token), mb.usd_price(p.loan_token),
                                    mb.decimals(p.collateral_token), mb.decimals(p.loan_token))
        if not isinstance(p.oracle, ChainlinkPairOracle) or p.oracle.price() != want:
            raise _problem(mb, f"market {name}: its oracle is not the pair of the protocol's USD feeds")
        m = mb.market(name)
        if m.last_update != now:
            raise _problem(mb, f"market {name}: validate needs markets created at block 0")
        if (m.total_supply_shares != m.total_supply_assets * VIRTUAL_SHARES
                or m.total_borrow_shares != m.total_borrow_assets * VIRTUAL_SHARES):
            raise _problem(mb, f"market {name}: validate needs fresh markets at block 0 (share price "
                               f"1e6 shares per asset), found {m}")
        markets.append(MorphoMarketSpec(name, p.loan_token, p.collateral_token, p.lltv, m.fee))
    if len(irms) > 1:
        raise _problem(mb, "validate needs one IRM kind for every market")
    snap = mb.snapshot(now)
    for pos in snap.positions:
        if pos.supply_shares % VIRTUAL_SHARES or pos.borrow_shares % VIRTUAL_SHARES:
            raise _problem(mb, f"market {pos.market}: {pos.user}'s shares are not whole assets at block 0")
    tokens = mb.assets()
    spec = MarketSpec(
        family="morpho-blue",
        tokens={t: mb.decimals(t) for t in tokens},
        prices={t: mb.usd_price(t) for t in tokens},
        markets=tuple(markets),
        irm=irms.pop() if irms else "linear-utilization",
        start_time=now, treasury=mb.fee_recipient, name=mb.name,
    )
    loan = {m.name: m.loan for m in markets}
    seed: list[Action] = []
    for market in mb.markets():
        here = [p for p in snap.positions if p.market == market]
        seed += [Supply(p.user, loan[market], p.supply_shares // VIRTUAL_SHARES, market)
                 for p in here if p.supply_shares]
        seed += [SupplyCollateral(p.user, market, p.collateral) for p in here if p.collateral]
        seed += [Borrow(p.user, loan[market], p.borrow_shares // VIRTUAL_SHARES, market)
                 for p in here if p.borrow_shares]
    return spec, seed
