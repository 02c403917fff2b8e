// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {AggregatorInterface} from "./interfaces/AggregatorInterface.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";

/// @title SettableAggregator
/// @notice A Chainlink-style price feed the tests drive: the deployer writes answers, and each
/// write is a new round stamped with the block's timestamp. Serves both the v3 interface
/// (Morpho oracles) and the legacy one (Aave's AaveOracle reads `latestAnswer()`).
/// @dev Answers are `decimals()` fixed-point (e.g. 8 decimals: 1e8 = 1 USD). Any int256 is
/// accepted, so tests can feed zero or negative prices. Round ids start at 1 (the constructor's
/// answer) and grow by one per `setAnswer`; `answeredInRound == roundId` and
/// `startedAt == updatedAt` for every round.
contract SettableAggregator is AggregatorInterface, AggregatorV3Interface {
    /// @notice Value of `version()`; Chainlink's current (OCR) aggregators report 4.
    uint256 public constant VERSION = 4;

    /// @notice The only account that may call `setAnswer` (the deployer).
    address public immutable owner;

    uint8 private immutable _decimals;
    string private _description;

    struct Round {
        int256 answer;
        uint64 updatedAt;
    }

    mapping(uint256 roundId => Round) private _rounds;
    uint80 private _latestRound;

    /// @notice `caller` is not the owner.
    error NotOwner(address caller);

    /// @notice Round `roundId` does not exist (Chainlink reverts with "No data present").
    error NoDataPresent(uint256 roundId);

    /// @param decimals_ Decimals of every answer.
    /// @param description_ Feed name, e.g. "ETH / USD".
    /// @param initialAnswer Answer of round 1, `decimals_` fixed-point.
    constructor(uint8 decimals_, string memory description_, int256 initialAnswer) {
        owner = msg.sender;
        _decimals = decimals_;
        _description = description_;
        _newRound(initialAnswer);
    }

    /// @notice Starts a new round whose answer is `answer` (`decimals()` fixed-point), stamped
    /// with `block.timestamp`. Emits `NewRound` then `AnswerUpdated`.
    /// @return roundId Id of the new round.
    function setAnswer(int256 answer) external returns (uint80 roundId) {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        return _newRound(answer);
    }

    // ---- AggregatorV3Interface ----

    /// @inheritdoc AggregatorV3Interface
    function decimals() external view returns (uint8) {
        return _decimals;
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external view returns (string memory) {
        return _description;
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure returns (uint256) {
        return VERSION;
    }

    /// @inheritdoc AggregatorV3Interface
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        if (roundId == 0 || roundId > _latestRound) revert NoDataPresent(roundId);
        return _roundData(roundId);
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return _roundData(_latestRound);
    }

    // ---- AggregatorInterface (legacy) ----

    /// @inheritdoc AggregatorInterface
    function latestAnswer() external view returns (int256) {
        return _rounds[_latestRound].answer;
    }

    /// @inheritdoc AggregatorInterface
    function latestTimestamp() external view returns (uint256) {
        return _rounds[_latestRound].updatedAt;
    }

    /// @inheritdoc AggregatorInterface
    function latestRound() external view returns (uint256) {
        return _latestRound;
    }

    /// @inheritdoc AggregatorInterface
    function getAnswer(uint256 roundId) external view returns (int256) {
        return _rounds[roundId].answer;
    }

    /// @inheritdoc AggregatorInterface
    function getTimestamp(uint256 roundId) external view returns (uint256) {
        return _rounds[roundId].updatedAt;
    }

    // ---- internals ----

    function _newRound(int256 answer) private returns (uint80 roundId) {
        roundId = _latestRound + 1;
        _latestRound = roundId;
        _rounds[roundId] = Round({answer: answer, updatedAt: uint64(block.timestamp)});
        emit NewRound(roundId, msg.sender, block.timestamp);
        emit AnswerUpdated(answer, roundId, block.timestamp);
    }

    function _roundData(uint80 roundId)
        private
        view
        returns (uint80, int256, uint256, uint256, uint80)
    {
        Round storage r = _rounds[roundId];
        return (roundId, r.answer, r.updatedAt, r.updatedAt, roundId);
    }
}
