// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @title AggregatorV3Interface
/// @notice Chainlink's price-feed read interface (v3), as consumed by Morpho's Chainlink oracles.
/// @dev Answers are fixed-point numbers with `decimals()` decimals (8 for USD feeds).
interface AggregatorV3Interface {
    /// @return Number of decimals of every answer.
    function decimals() external view returns (uint8);

    /// @return Human-readable feed name, e.g. "ETH / USD".
    function description() external view returns (string memory);

    /// @return Version of the aggregator implementation.
    function version() external view returns (uint256);

    /// @notice Data of round `roundId`; reverts when the round does not exist.
    /// @return roundId_ The round asked for.
    /// @return answer The price, `decimals()` fixed-point.
    /// @return startedAt Unix time (s) the round started.
    /// @return updatedAt Unix time (s) the answer was written.
    /// @return answeredInRound The round in which the answer was computed (= `roundId` here).
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    /// @notice Data of the latest round; same fields as `getRoundData`.
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
