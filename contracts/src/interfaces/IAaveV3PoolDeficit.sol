// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @title IAaveV3PoolDeficit
/// @notice The Aave V3.6 Pool calls InsuranceFund makes (signatures as in Aave's IPool 3.6).
/// @dev Amounts are underlying-asset base units.
interface IAaveV3PoolDeficit {
    /// @return Bad debt recorded on the reserve of `asset`, underlying base units.
    function getReserveDeficit(address asset) external view returns (uint256);

    /// @return The reserve's liquidity index at this block (RAY, 1e27): aToken balance =
    /// scaled balance * index / RAY.
    function getReserveNormalizedIncome(address asset) external view returns (uint256);

    /// @return The aToken of the reserve of `asset`.
    function getReserveAToken(address asset) external view returns (address);

    function supply(address asset, uint256 amount, address onBehalfOf, uint16 referralCode) external;

    /// @notice Burns the caller's aTokens to write off up to `amount` of the reserve's deficit.
    /// @dev Only the address registered as `UMBRELLA` in the PoolAddressesProvider may call it.
    /// @return The deficit written off, underlying base units.
    function eliminateReserveDeficit(address asset, uint256 amount) external returns (uint256);
}

/// @title IScaledBalanceTokenMinimal
/// @notice Aave aToken's scaled balance (balance divided by the liquidity index).
interface IScaledBalanceTokenMinimal {
    /// @return Scaled balance of `user`: aToken base units * RAY / liquidity index.
    function scaledBalanceOf(address user) external view returns (uint256);
}
