// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @title IUniswapV2PairMinimal
/// @notice The Uniswap V2 pair calls FeeBurner makes. Amounts and reserves are token base units.
interface IUniswapV2PairMinimal {
    function token0() external view returns (address);

    function token1() external view returns (address);

    /// @return reserve0 Reserve of token0.
    /// @return reserve1 Reserve of token1.
    /// @return blockTimestampLast Time (s, mod 2**32) of the last reserve update.
    function getReserves() external view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast);

    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external;
}
