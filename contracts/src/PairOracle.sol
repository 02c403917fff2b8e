// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {IOracle} from "./interfaces/IOracle.sol";

/// @title PairOracle
/// @notice Morpho Blue oracle built from two Chainlink-style feeds, priced the way
/// MorphoChainlinkOracleV2 prices a market with one base feed and one quote feed (no vaults):
///
///     SCALE_FACTOR = 10 ** (36 + loanDecimals + quoteFeedDecimals - collateralDecimals - baseFeedDecimals)
///     price()      = floor(SCALE_FACTOR * baseAnswer / quoteAnswer)
///
/// with a full-precision (512-bit intermediate) mulDiv, so no intermediate overflow.
/// @dev `price()` is the price of 1 collateral base unit in loan base units, scaled by 1e36.
/// As in MorphoChainlinkOracleV2, a feed address of zero stands for a constant answer of 1 with
/// 0 decimals. A non-positive answer reverts. Answers are not checked for staleness (neither
/// does MorphoChainlinkOracleV2).
contract PairOracle is IOracle {
    /// @notice Collateral/USD feed (or zero for 1).
    AggregatorV3Interface public immutable BASE_FEED;
    /// @notice Loan/USD feed (or zero for 1).
    AggregatorV3Interface public immutable QUOTE_FEED;
    /// @notice The SCALE above (dimensionless power of ten).
    uint256 public immutable SCALE_FACTOR;

    /// @notice `feed` answered `answer` <= 0.
    error NonPositiveAnswer(address feed, int256 answer);
    /// @notice The decimals give a negative (or > 77) power of ten for SCALE_FACTOR.
    error InvalidScale(uint256 numeratorDecimals, uint256 denominatorDecimals);
    /// @notice The 1e36-scaled price does not fit in 256 bits.
    error PriceOverflow();

    /// @param baseFeed Collateral/USD feed, or zero for a constant 1.
    /// @param quoteFeed Loan/USD feed, or zero for a constant 1.
    /// @param collateralDecimals Decimals of the collateral token.
    /// @param loanDecimals Decimals of the loan token.
    constructor(
        AggregatorV3Interface baseFeed,
        AggregatorV3Interface quoteFeed,
        uint8 collateralDecimals,
        uint8 loanDecimals
    ) {
        BASE_FEED = baseFeed;
        QUOTE_FEED = quoteFeed;
        uint256 up = 36 + uint256(loanDecimals) + _feedDecimals(quoteFeed);
        uint256 down = uint256(collateralDecimals) + _feedDecimals(baseFeed);
        if (down > up || up - down > 77) revert InvalidScale(up, down);
        SCALE_FACTOR = 10 ** (up - down);
    }

    /// @inheritdoc IOracle
    function price() external view returns (uint256) {
        return _mulDiv(SCALE_FACTOR, _answer(BASE_FEED), _answer(QUOTE_FEED));
    }

    function _feedDecimals(AggregatorV3Interface feed) private view returns (uint256) {
        return address(feed) == address(0) ? 0 : feed.decimals();
    }

    function _answer(AggregatorV3Interface feed) private view returns (uint256) {
        if (address(feed) == address(0)) return 1;
        (, int256 answer,,,) = feed.latestRoundData();
        if (answer <= 0) revert NonPositiveAnswer(address(feed), answer);
        return uint256(answer);
    }

    /// @dev floor(x * y / d) computed exactly with a 512-bit product; reverts when the result
    /// needs more than 256 bits. `d` is never zero here (answers are positive).
    function _mulDiv(uint256 x, uint256 y, uint256 d) private pure returns (uint256 q) {
        unchecked {
            // 512-bit product p = hi * 2**256 + lo, from the product mod 2**256 and mod 2**256 - 1.
            uint256 lo;
            uint256 hi;
            assembly {
                let m := mulmod(x, y, not(0))
                lo := mul(x, y)
                hi := sub(sub(m, lo), lt(m, lo))
            }
            if (hi == 0) return lo / d;
            if (d <= hi) revert PriceOverflow();

            // Subtract the remainder so that p becomes an exact multiple of d.
            uint256 rem;
            assembly {
                rem := mulmod(x, y, d)
                hi := sub(hi, gt(rem, lo))
                lo := sub(lo, rem)
            }
            // Divide d and p by the largest power of two dividing d.
            uint256 pow2 = d & (0 - d);
            assembly {
                d := div(d, pow2)
                lo := div(lo, pow2)
                // 2**256 / pow2, computed as (2**256 - pow2) / pow2 + 1.
                pow2 := add(div(sub(0, pow2), pow2), 1)
            }
            lo |= hi * pow2;
            // d is now odd: invert it mod 2**256 by Newton-Raphson, doubling correct bits each
            // step from the 4 bits that (3 * d) ^ 2 gets right.
            uint256 inv = (3 * d) ^ 2;
            for (uint256 i = 0; i < 6; ++i) {
                inv *= 2 - d * inv;
            }
            // p / d is exact and fits in 256 bits, so it equals lo * d^-1 mod 2**256.
            q = lo * inv;
        }
    }
}
