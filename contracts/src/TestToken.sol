// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @title TestToken
/// @notice A plain ERC-20 for local chains: anyone may mint, any holder may burn its own tokens
/// (burning lowers `totalSupply` and emits `Transfer(holder, address(0), amount)`).
/// @dev All amounts are base units (10 ** decimals base units = 1 token). An allowance of
/// `type(uint256).max` is never decreased by `transferFrom`. No fee on transfer, no rebasing.
contract TestToken {
    string public name;
    string public symbol;
    uint8 public immutable decimals;
    /// @notice Total supply, base units.
    uint256 public totalSupply;

    mapping(address account => uint256) public balanceOf;
    mapping(address owner => mapping(address spender => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// @notice `holder` has `balance` base units, fewer than the `needed` ones.
    error InsufficientBalance(address holder, uint256 balance, uint256 needed);
    /// @notice `spender` may move `allowed` base units of `holder`'s, fewer than `needed`.
    error InsufficientAllowance(address holder, address spender, uint256 allowed, uint256 needed);
    /// @notice Transfers and mints to the zero address are refused (burn instead).
    error ZeroAddressRecipient();

    /// @param name_ Token name.
    /// @param symbol_ Token symbol.
    /// @param decimals_ Decimals (base units per token = 10 ** decimals_).
    constructor(string memory name_, string memory symbol_, uint8 decimals_) {
        name = name_;
        symbol = symbol_;
        decimals = decimals_;
    }

    /// @notice Creates `amount` base units for `to`; callable by anyone (test token).
    function mint(address to, uint256 amount) external {
        if (to == address(0)) revert ZeroAddressRecipient();
        totalSupply += amount;
        unchecked {
            balanceOf[to] += amount; // cannot overflow: bounded by totalSupply
        }
        emit Transfer(address(0), to, amount);
    }

    /// @notice Destroys `amount` base units of the caller's, lowering `totalSupply`.
    function burn(uint256 amount) external {
        _debit(msg.sender, amount);
        unchecked {
            totalSupply -= amount; // cannot underflow: amount <= balance <= totalSupply
        }
        emit Transfer(msg.sender, address(0), amount);
    }

    /// @notice Moves `amount` base units from the caller to `to`.
    function transfer(address to, uint256 amount) external returns (bool) {
        _transfer(msg.sender, to, amount);
        return true;
    }

    /// @notice Lets `spender` move up to `amount` base units of the caller's.
    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    /// @notice Moves `amount` base units from `from` to `to` against the caller's allowance.
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            if (allowed < amount) revert InsufficientAllowance(from, msg.sender, allowed, amount);
            unchecked {
                allowance[from][msg.sender] = allowed - amount;
            }
        }
        _transfer(from, to, amount);
        return true;
    }

    function _transfer(address from, address to, uint256 amount) private {
        if (to == address(0)) revert ZeroAddressRecipient();
        _debit(from, amount);
        unchecked {
            balanceOf[to] += amount; // cannot overflow: bounded by totalSupply
        }
        emit Transfer(from, to, amount);
    }

    function _debit(address holder, uint256 amount) private {
        uint256 balance = balanceOf[holder];
        if (balance < amount) revert InsufficientBalance(holder, balance, amount);
        unchecked {
            balanceOf[holder] = balance - amount;
        }
    }
}
