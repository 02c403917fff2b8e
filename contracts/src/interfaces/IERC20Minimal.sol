// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @title IERC20Minimal
/// @notice The ERC-20 calls our contracts make. Amounts are token base units.
interface IERC20Minimal {
    function balanceOf(address account) external view returns (uint256);

    function transfer(address to, uint256 amount) external returns (bool);

    function transferFrom(address from, address to, uint256 amount) external returns (bool);

    function approve(address spender, uint256 amount) external returns (bool);
}
