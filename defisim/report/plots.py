"""PNG plots of one run, drawn from its record log (matplotlib, Agg canvas).

Each function draws one figure (1600x1000 px) and saves it to ``path``. Figures are built
with the object API (:class:`matplotlib.figure.Figure` on a
:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`), never through ``pyplot``: nothing
is shown, nothing is registered with pyplot's figure manager (so there is nothing left open to
close), and the process-wide matplotlib backend is not changed, which keeps the functions
safe inside notebooks and worker threads.

The x axis is the block number, with a second axis in hours (``chain.block_time_s``). A
record type that is absent (no liquidations, no bad debt, no fund) never fails a plot: the
panel says so in a note instead.

Units: prices in USD per whole token; health factors unitless; insurance fund balances and
burned tokens in whole tokens (base units / 10**decimals of the token); bad debt and
socialised loss in USD (records carry USD with 8 decimals).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from defisim.engine.records import (
    BadDebtRealized,
    BadDebtSocialized,
    HealthSampled,
    InsuranceFundDrawn,
    InsuranceFundFunded,
    PositionLiquidated,
    PriceUpdated,
    TokensBurned,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from defisim.results import Result

__all__ = ["plot_health", "plot_prices", "plot_solvency"]

WIDTH_IN, HEIGHT_IN, DPI = 16.0, 10.0, 100
"""Figure size: 16 x 10 inches at 100 dpi = 1600 x 1000 px."""

USD_E8 = 10**8
_HF_CAP = 10.0
"""Health factors above this are clipped in the health plot (the region of interest is < 3)."""

_RC = {
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "legend.fontsize": 10,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}


# --- prices -------------------------------------------------------------------------------

def plot_prices(result: Result, path: Path) -> None:
    """Reference vs oracle vs AMM price (USD) per asset that has an oracle, with liquidations.

    One panel per asset (near-flat ones, e.g. stablecoins, get half height). The reference
    path is the exogenous price; each oracle's answer is a step line (it holds until the next
    round); each AMM pool whose base token is the asset (see :func:`_pool_base_quote`) gives
    its price in the quote token (``price of token0 in whole token1``, inverted when the
    asset is token1) times the quote's USD reference price (or its oracle price if it has no
    reference path). Liquidations that involve the asset (as collateral or debt) are tick
    marks along the bottom, one lane and colour per protocol.
    """
    bt = _block_time(result)
    end = _end_block(result)
    oracles = _oracles_by_asset(result)
    liqs = result.records.of_type(PositionLiquidated)
    colours = _protocol_colours(result)
    assets = list(oracles) or list(result.reference.assets)

    ratios = [1.0 if (_usd_range(result, a) or 0.0) < 0.01 else 2.0 for a in assets] or [1.0]
    with _figure() as fig:
        axes = fig.subplots(max(1, len(assets)), 1, sharex=True, squeeze=False,
                            gridspec_kw={"height_ratios": ratios})[:, 0]
        if not assets:
            _note(axes[0], "no assets with prices in this run")
        for ax, asset in zip(axes, assets, strict=False):
            _price_panel(ax, result, asset, oracles.get(asset, []), liqs, colours, end)
        if not oracles and assets:
            _note(axes[0], "no oracles in this scenario: reference and AMM prices only", y=0.92)
        _finish_x(axes, bt, end)
        fig.suptitle(f"Prices: reference vs oracle vs AMM{_run_label(result)}", fontsize=15)
        _save(fig, path)


def _price_panel(ax: Axes, result: Result, asset: str, oracle_names: list[str],
                 liqs: list[PositionLiquidated], colours: _Colours, end: int) -> None:
    ref = result.reference
    if asset in ref.assets:
        path = np.asarray(ref.of(asset), dtype=float)
        ax.plot(np.arange(path.size), path, color="black", lw=1.6, alpha=0.75,
                label="reference (exogenous)", zorder=3)
    for i, name in enumerate(oracle_names):
        b, p = result.oracle_price_series(name)
        if b.size == 0:
            continue
        x, y = _extend(b, p, end)
        ax.step(x, y, where="post", lw=1.8, color=_ORACLE_COLOURS[i % len(_ORACLE_COLOURS)],
                label=f"oracle {name} ({_n(b.size, 'round')})", zorder=4)
    skipped: list[str] = []
    for j, (pool, info) in enumerate(result.pools.items()):
        if asset not in (info.token0, info.token1) or info.token0 == info.token1:
            continue
        pair = _pool_base_quote(result, info.token0, info.token1)
        if pair is None:
            skipped.append(f"{pool} (no USD price for {info.token0} or {info.token1})")
            continue
        base, quote = pair
        if base != asset:
            continue  # drawn in the panel of its base token, priced in this asset
        b, p = result.amm_price_series(pool)
        with np.errstate(divide="ignore", invalid="ignore"):
            in_quote = p if asset == info.token0 else 1.0 / p
        quote_usd = _usd_price_at(result, quote, b)
        if quote_usd is None:  # pragma: no cover - _pool_base_quote checked it
            continue
        x, y = _extend(b, in_quote * quote_usd, end)
        ax.step(x, y, where="post", lw=1.3, ls="--", color=_POOL_COLOURS[j % len(_POOL_COLOURS)],
                label=f"AMM {pool} ({info.token0}/{info.token1}, {_n(b.size - 1, 'swap')})", zorder=2)

    ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    ax.autoscale(axis="y")
    lo, hi = ax.get_ylim()
    data = np.concatenate([np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines()]
                          or [np.zeros(0)])
    data = data[np.isfinite(data)]
    if data.size:
        dlo, dhi = float(data.min()), float(data.max())
        mid = (dlo + dhi) / 2
        if mid > 0 and dhi - dlo < 0.01 * mid:
            # Near-flat prices (stablecoins): +-0.5% around them, so a 0.3% depeg is visible
            # but rounding noise does not look like a cliff.
            span = max(0.005 * mid, (dhi - dlo) * 0.6)
            lo, hi = mid - span, mid + span
            ax.set_ylim(lo, hi)
    mine = [r for r in liqs if asset in (r.collateral_asset, r.debt_asset, r.underlying)]
    protocols = [p for p in colours if any(r.protocol == p for r in mine)]
    if protocols:
        # Free a band at the bottom of the panel for the liquidation lanes.
        band = 0.04 * len(protocols) + 0.02
        ax.set_ylim(lo - (hi - lo) * band / (1 - band), hi)
        lane = 0.04
        for k, proto in enumerate(protocols):
            blocks = [r.block for r in mine if r.protocol == proto]
            ax.vlines(blocks, k * lane + 0.005, (k + 1) * lane - 0.005,
                      transform=ax.get_xaxis_transform(), color=colours[proto], lw=1.2,
                      alpha=0.8, label=f"{proto} liquidations ({len(blocks)})", zorder=5)
    else:
        _note(ax, f"no liquidations involving {asset}", x=0.01, y=0.04, ha="left", size=10)
    if skipped:
        _note(ax, "not shown: " + "; ".join(skipped), x=0.99, y=0.04, ha="right", size=9)
    ax.set_ylabel(f"{asset} price (USD)")
    ax.set_title(f"{asset}: reference, oracle and AMM price (USD per {asset})")
    if ax.has_data():
        _legend(ax)


def _oracles_by_asset(result: Result) -> dict[str, list[str]]:
    """Asset -> oracle names: scenario order first, then any other oracle seen in the log."""
    out: dict[str, list[str]] = {}
    for spec in getattr(result.scenario, "oracles", None) or []:
        name, asset = getattr(spec, "name", None), getattr(spec, "asset", None)
        if isinstance(name, str) and isinstance(asset, str):
            out.setdefault(asset, []).append(name)
    known = {n for names in out.values() for n in names}
    for r in result.records.of_type(PriceUpdated):
        if r.oracle not in known:
            known.add(r.oracle)
            out.setdefault(r.asset, []).append(r.oracle)
    return out


def _usd_range(result: Result, token: str) -> float | None:
    """Relative range (max / min - 1) of ``token``'s USD price; None if it has none."""
    ref = result.reference
    if token in ref.assets:
        path = np.asarray(ref.of(token), dtype=float)
    else:
        path = np.zeros(0)
        for name in _oracles_by_asset(result).get(token, []):
            path = result.oracle_price_series(name)[1]
            if path.size:
                break
    if path.size == 0:
        return None
    lo = float(np.nanmin(path))
    return float(np.nanmax(path)) / lo - 1.0 if lo > 0 else math.inf


def _pool_base_quote(result: Result, token0: str, token1: str) -> tuple[str, str] | None:
    """(base, quote) of a pool for the price plot, or None if neither token has a USD price.

    The quote is the token whose USD price moved least over the run (the stablecoin of a
    WETH/USDC pool; token1 on a tie, as Uniswap quotes token0 in token1). The pool's price is
    then base in quote times quote's USD price, and it appears in the base token's panel
    only: expressing USDC in USD through the WETH reference would show the AMM's WETH
    mispricing as a fake USDC depeg.
    """
    r0, r1 = _usd_range(result, token0), _usd_range(result, token1)
    if r0 is None and r1 is None:
        return None
    if r1 is None or (r0 is not None and r0 < r1):
        return token1, token0
    return token0, token1


def _usd_price_at(result: Result, token: str, blocks: np.ndarray) -> np.ndarray | None:
    """USD price of ``token`` at ``blocks``: reference path, else last oracle answer."""
    ref = result.reference
    if token in ref.assets:
        path = np.asarray(ref.of(token), dtype=float)
        return path[np.clip(blocks, 0, path.size - 1)]
    for name in _oracles_by_asset(result).get(token, []):
        ob, op = result.oracle_price_series(name)
        if ob.size:
            idx = np.searchsorted(ob, blocks, side="right") - 1
            return np.where(idx >= 0, op[np.clip(idx, 0, None)], np.nan)
    return None


# --- health -------------------------------------------------------------------------------

def plot_health(result: Result, path: Path) -> None:
    """Health-factor distribution of open positions over time, one panel per protocol.

    Bands p01-p90 and p10-p90, the median (p50) and p01 lines on a log scale, a line at
    HF = 1, and on a twin axis the number of liquidatable positions (HF < 1) and of positions
    with HF < 1.1. Percentiles above 10 are clipped (positions without debt count as 1e9).
    """
    bt = _block_time(result)
    end = _end_block(result)
    samples = result.records.of_type(HealthSampled)
    by_proto: dict[str, list[HealthSampled]] = {}
    for p in result.protocols:
        by_proto[p] = []
    for s in samples:
        by_proto.setdefault(s.protocol, []).append(s)
    protos = [p for p, rows in by_proto.items() if rows] or list(by_proto)
    colours = _protocol_colours(result)

    with _figure() as fig:
        axes = fig.subplots(max(1, len(protos)), 1, sharex=True, squeeze=False)[:, 0]
        if not protos:
            _note(axes[0], "no protocols in this run")
        for ax, proto in zip(axes, protos, strict=False):
            _health_panel(ax, proto, by_proto.get(proto, []), colours[proto])
        _finish_x(axes, bt, end)
        fig.suptitle(f"Health factors of open positions{_run_label(result)}", fontsize=15)
        _save(fig, path)


def _health_panel(ax: Axes, proto: str, rows: list[HealthSampled], colour: Any) -> None:
    from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

    ax.set_title(f"{proto}: health-factor distribution")
    ax.set_ylabel("health factor (log scale)")
    if not rows:
        _note(ax, f"no health samples recorded for {proto}")
        return
    b = np.array([r.block for r in rows])
    pct = {k: np.array([getattr(r, k) for r in rows], dtype=float)
           for k in ("p01", "p10", "p50", "p90")}
    valid = {k: np.where(np.isfinite(v) & (v > 0), v, np.nan) for k, v in pct.items()}
    clipped = bool(np.nanmax(np.r_[valid["p90"], 0.0]) > _HF_CAP)
    show = {k: np.minimum(v, _HF_CAP) for k, v in valid.items()}

    ax.fill_between(b, show["p01"], show["p90"], color=colour, alpha=0.13, step="post",
                    label="p01-p90", lw=0)
    ax.fill_between(b, show["p10"], show["p90"], color=colour, alpha=0.28, step="post",
                    label="p10-p90", lw=0)
    ax.step(b, show["p50"], where="post", color=colour, lw=2.2, label="median (p50)")
    ax.step(b, show["p01"], where="post", color=colour, lw=1.0, ls="--", label="p01")
    ax.axhline(1.0, color="red", lw=1.5, ls="-", label="HF = 1 (liquidation threshold)")
    ax.set_yscale("log")
    finite_lo = np.nanmin(np.r_[valid["p01"], np.inf])
    finite_hi = np.nanmax(np.r_[show["p90"], 0.0])
    lo = max(0.05, min(0.9, finite_lo * 0.85)) if math.isfinite(finite_lo) else 0.5
    hi = min(_HF_CAP * 1.05, max(1.6, finite_hi * 1.15))
    ax.set_ylim(lo, hi)
    ticks = [t for t in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2, 3,
                         5, 7, 10) if lo <= t <= hi]
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))

    ax2 = ax.twinx()
    ax2.grid(False)
    liq = np.array([r.liquidatable for r in rows])
    near = np.array([r.below_1_1 for r in rows])
    ax2.step(b, near, where="post", color="darkorange", lw=1.2, ls=":",
             label="positions with HF < 1.1")
    ax2.step(b, liq, where="post", color="darkorange", lw=1.8,
             label="liquidatable positions (HF < 1)")
    ax2.set_ylabel("number of positions", color="darkorange")
    ax2.tick_params(axis="y", colors="darkorange")
    ax2.set_ylim(0, max(1, int(max(near.max(), liq.max()))) * 1.15)
    ax2.yaxis.set_major_locator(MaxNLocator(integer=True))

    opened = [r.open_positions for r in rows]
    ax.set_title(f"{proto}: health-factor distribution "
                 f"(open positions {opened[0]:,} at block {b[0]}, {opened[-1]:,} at block {b[-1]};"
                 f" peak liquidatable {int(liq.max()):,})")
    if clipped:
        _note(ax, f"percentiles above {_HF_CAP:g} clipped (includes debt-free positions)",
              x=0.01, y=0.96, ha="left", va="top", size=9)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    _legend(ax2, h1 + h2, l1 + l2, x=1.07)


# --- solvency -----------------------------------------------------------------------------

def plot_solvency(result: Result, path: Path) -> None:
    """Insurance funds, bad debt and burns over time: three panels sharing the block axis.

    1. Insurance fund balance per protocol and asset, in whole tokens (initial balance from
       the scenario, then ``balance_after`` of every funding and draw; draws marked).
    2. Cumulative bad debt realised (solid), covered by the insurance fund (dotted) and
       socialised to suppliers (dashed), USD.
    3. Cumulative tokens bought with fees and burned, whole tokens.
    """
    bt = _block_time(result)
    end = _end_block(result)
    colours = _protocol_colours(result)
    with _figure() as fig:
        axes = fig.subplots(3, 1, sharex=True, squeeze=False,
                            gridspec_kw={"height_ratios": [1.2, 1.2, 1.0]})[:, 0]
        _fund_panel(axes[0], result, colours, end)
        _bad_debt_panel(axes[1], result, colours, end)
        _burn_panel(axes[2], result, colours, end)
        _finish_x(axes, bt, end)
        fig.suptitle(f"Solvency: insurance funds, bad debt, burns{_run_label(result)}",
                     fontsize=15)
        _save(fig, path)


def _fund_panel(ax: Axes, result: Result, colours: _Colours, end: int) -> None:
    from matplotlib.ticker import FuncFormatter

    series: dict[tuple[str, str], list[tuple[int, int]]] = {}
    draws: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for proto, asset, initial in _initial_funds(result):
        series[(proto, asset)] = [(0, initial)]
    for r in result.records:
        if isinstance(r, (InsuranceFundFunded, InsuranceFundDrawn)):
            key = (r.protocol, r.asset)
            series.setdefault(key, [(0, 0)]).append((r.block, r.balance_after))
            if isinstance(r, InsuranceFundDrawn):
                draws.setdefault(key, []).append((r.block, r.balance_after))
    assets = sorted({a for _, a in series})
    styles = ["-", "--", "-.", ":"]
    for (proto, asset), points in series.items():
        scale = 10 ** _decimals(result, asset)
        b = np.array([p[0] for p in points])
        v = np.array([p[1] / scale for p in points])
        x, y = _extend(b, v, end)
        ls = styles[assets.index(asset) % len(styles)]
        ax.step(x, y, where="post", color=colours[proto], lw=2, ls=ls,
                label=f"{proto} fund ({asset}): {_compact(y[0])} \u2192 {_compact(y[-1])}")
        if (proto, asset) in draws:
            d = draws[(proto, asset)]
            ax.scatter([p[0] for p in d], [p[1] / scale for p in d], marker="v", s=28,
                       color=colours[proto], zorder=5,
                       label=f"{proto} draws from fund: {len(d)}")
    unit = assets[0] if len(assets) == 1 else "whole tokens of each fund's asset"
    ax.set_ylabel(f"fund balance ({unit})")
    ax.set_title("Insurance fund balance")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _compact(v)))
    if series:
        ax.set_ylim(bottom=0)
        _legend(ax)
    else:
        _note(ax, "no insurance funds in this run")


def _bad_debt_panel(ax: Axes, result: Result, colours: _Colours, end: int) -> None:
    from matplotlib.ticker import FuncFormatter

    # Realised is a wide translucent band so the covered/socialised lines on top stay visible
    # where they coincide with it (e.g. a fund that covered everything).
    kinds = [
        (BadDebtRealized, "-", 5.0, 0.4, "bad debt realised"),
        (InsuranceFundDrawn, ":", 2.2, 1.0, "covered by insurance fund"),
        (BadDebtSocialized, "--", 2.0, 1.0, "socialised to suppliers"),
    ]
    rows_by: dict[tuple[str, type], list[tuple[int, int]]] = {}
    for cls, *_ in kinds:
        for r in result.records.of_type(cls):
            rows_by.setdefault((r.protocol, cls), []).append((r.block, r.amount_usd))
            colours[r.protocol]  # noqa: B018  (a colour for protocols only seen here)
    drawn_any = False
    for proto in list(colours):
        for cls, ls, lw, alpha, what in kinds:
            rows = rows_by.get((proto, cls))
            if not rows:
                continue
            x, y = _cumulative(rows, end, USD_E8)
            ax.step(x, y, where="post", color=colours[proto], ls=ls, lw=lw, alpha=alpha,
                    label=f"{proto} {what}: {_usd_text(y[-1])}")
            drawn_any = True
    ax.set_ylabel("cumulative USD")
    ax.set_title("Bad debt: realised, covered by the insurance fund, socialised")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${_compact(v)}"))
    if drawn_any:
        ax.set_ylim(bottom=0)
        _legend(ax)
    else:
        ax.set_ylim(0, 1)
        _note(ax, "no bad debt realised in this run")


def _burn_panel(ax: Axes, result: Result, colours: _Colours, end: int) -> None:
    from matplotlib.ticker import FuncFormatter

    by_key: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for r in result.records.of_type(TokensBurned):
        by_key.setdefault((r.protocol, r.token), []).append((r.block, r.amount))
    tokens = sorted({t for _, t in by_key})
    for (proto, token), rows in by_key.items():
        x, y = _cumulative(rows, end, 10 ** _decimals(result, token))
        ax.step(x, y, where="post", color=colours[proto], lw=2,
                label=f"{proto} burned {token}: {_compact(y[-1])} in {_n(len(rows), 'burn')}")
    unit = tokens[0] if len(tokens) == 1 else "whole tokens"
    ax.set_ylabel(f"cumulative burned ({unit})")
    ax.set_title("Tokens bought with protocol fees and burned")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _compact(v)))
    if by_key:
        ax.set_ylim(bottom=0)
        _legend(ax)
    else:
        ax.set_ylim(0, 1)
        _note(ax, "no tokens burned in this run")


def _initial_funds(result: Result) -> Iterator[tuple[str, str, int]]:
    """(protocol, asset, initial base units) of every insurance fund the scenario seeds."""
    for spec in getattr(result.scenario, "protocols", None) or []:
        fund = getattr(spec, "insurance_fund", None)
        name = getattr(spec, "name", None)
        asset = getattr(fund, "asset", None)
        if isinstance(name, str) and isinstance(asset, str):
            initial = getattr(fund, "initial", 0)
            yield name, asset, initial if isinstance(initial, int) else 0


def _cumulative(rows: Sequence[tuple[int, int]], end: int, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Step series of the running sum (exact ints, divided by ``scale`` only for plotting)."""
    blocks, totals, running = [0], [0.0], 0
    for block, amount in rows:
        running += amount
        blocks.append(block)
        totals.append(running / scale)
    return _extend(np.array(blocks), np.array(totals), end)


# --- shared helpers -----------------------------------------------------------------------

# Red is kept for HF = 1 and orange for position counts; protocols take the other colours,
# oracles and AMM pools in the price plot use colours no protocol uses.
_ORACLE_COLOURS = ["darkorange", "goldenrod", "chocolate", "orangered"]
_POOL_COLOURS = ["tab:green", "teal", "yellowgreen", "darkseagreen"]
_PROTOCOL_PALETTE = ["tab:blue", "tab:purple", "tab:brown", "tab:pink", "tab:cyan",
                     "tab:olive", "tab:gray", "navy", "indigo", "maroon"]


class _Colours(dict):  # type: ignore[type-arg]
    """Protocol -> colour; unknown protocols get the next palette colour on first use."""

    def __missing__(self, key: str) -> str:
        colour = _PROTOCOL_PALETTE[len(self) % len(_PROTOCOL_PALETTE)]
        self[key] = colour
        return colour


def _protocol_colours(result: Result) -> _Colours:
    colours = _Colours()
    for p in result.protocols:
        colours[p]  # noqa: B018  (assigns the next colour)
    return colours


@contextmanager
def _figure() -> Iterator[Figure]:
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with mpl.rc_context(_RC):
        fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        try:
            yield fig
        finally:
            fig.clear()


def _save(fig: Figure, path: Path) -> None:
    fig.savefig(Path(path), format="png", dpi=DPI)


def _finish_x(axes: Iterable[Axes], block_time_s: int, end: int) -> None:
    """Shared block x axis from 0 to ``end``; hours on top of the first panel."""
    axes = list(axes)
    for ax in axes:
        ax.set_xlim(0, max(end, 1))
    axes[-1].set_xlabel("block")
    top = axes[0].secondary_xaxis(
        "top",
        functions=(lambda b: np.asarray(b) * block_time_s / 3600.0,
                   lambda h: np.asarray(h) * 3600.0 / block_time_s),
    )
    top.set_xlabel(f"hours since start ({block_time_s} s blocks)", fontsize=10)


def _legend(ax: Axes, handles: list[Any] | None = None, labels: list[str] | None = None,
            *, x: float = 1.01) -> None:
    """Legend outside the panel on the right (``x`` > 1 clears a twin axis), never over data."""
    if handles is None or labels is None:
        handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(x, 1.0), borderaxespad=0.0)


def _note(ax: Axes, text: str, *, x: float = 0.5, y: float = 0.5, ha: str = "center",
          va: str = "center", size: float = 13) -> None:
    ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, fontsize=size, color="dimgray",
            bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": "lightgray", "alpha": 0.9},
            zorder=10)


def _extend(blocks: np.ndarray, values: np.ndarray, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Append the last value at ``end`` so a step line reaches the end of the run."""
    blocks = np.asarray(blocks)
    values = np.asarray(values, dtype=float)
    if blocks.size == 0:
        return np.array([0, end]), np.array([np.nan, np.nan])
    if blocks[-1] < end:
        blocks = np.r_[blocks, end]
        values = np.r_[values, values[-1]]
    return blocks, values


def _block_time(result: Result) -> int:
    chain = getattr(result.scenario, "chain", None)
    bt = getattr(chain, "block_time_s", None)
    if isinstance(bt, int) and bt > 0:
        return bt
    bt = getattr(result.reference, "block_time_s", None)
    return bt if isinstance(bt, int) and bt > 0 else 12


def _end_block(result: Result) -> int:
    last = result.records[len(result.records) - 1].block if len(result.records) else 0
    return max(int(result.blocks), int(last))


def _decimals(result: Result, token: str) -> int:
    """Decimals of ``token`` from the scenario, else from a pool holding it, else 0."""
    tokens = getattr(result.scenario, "tokens", None) or {}
    spec = tokens.get(token) if hasattr(tokens, "get") else None
    dec = getattr(spec, "decimals", None)
    if isinstance(dec, int):
        return dec
    for info in result.pools.values():
        if info.token0 == token:
            return info.decimals0
        if info.token1 == token:
            return info.decimals1
    return 0


def _run_label(result: Result) -> str:
    name = getattr(result.scenario, "name", None)
    hours = result.blocks * _block_time(result) / 3600
    return (f" - scenario {name!s}, seed {result.seed}, {result.blocks:,} blocks "
            f"({hours:.3g} h)" if name else "")


def _usd_text(v: float) -> str:
    """'$48.5k'; amounts below one cent (rounding dust) as '<$0.01'."""
    if 0 < abs(v) < 0.01:
        return "<$0.01"
    return f"${_compact(v)}" if abs(v) >= 1000 else f"${v:,.2f}"


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _compact(v: float) -> str:
    """1234567 -> '1.23M'; keeps axis labels short."""
    if not math.isfinite(v):
        return "n/a"
    a = abs(v)
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{v / div:.3g}{suffix}"
    if a == 0:
        return "0"
    return f"{v:.3g}"
