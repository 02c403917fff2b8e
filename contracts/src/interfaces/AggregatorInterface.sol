// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @title AggregatorInterface
/// @notice Chainlink's legacy (v2) feed interface; Aave's AaveOracle reads `latestAnswer()`.
/// @dev Answers are `decimals()` fixed-point; timestamps are Unix seconds.
interface AggregatorInterface {
    /// @return The latest answer.
    function latestAnswer() external view returns (int256);

    /// @return Unix time (s) of the latest answer.
    function latestTimestamp() external view returns (uint256);

    /// @return Id of the latest round.
    function latestRound() external view returns (uint256);

    /// @return The answer of round `roundId` (0 when the round does not exist).
    function getAnswer(uint256 roundId) external view returns (int256);

    /// @return Unix time (s) of round `roundId` (0 when the round does not exist).
    function getTimestamp(uint256 roundId) external view returns (uint256);

    /// @notice A round's answer was written.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    /// @notice A new round started.
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);
}
