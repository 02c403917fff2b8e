// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @title IOracle
/// @notice The oracle interface Morpho Blue reads (same selector as Morpho's own `IOracle`).
interface IOracle {
    /// @return Price of 1 collateral base unit in loan base units, scaled by 1e36.
    function price() external view returns (uint256);
}
