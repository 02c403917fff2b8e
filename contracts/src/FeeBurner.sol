// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IERC20Minimal} from "./interfaces/IERC20Minimal.sol";
import {IUniswapV2PairMinimal} from "./interfaces/IUniswapV2PairMinimal.sol";

/// @notice The burn entry point FeeBurner needs on the bought token (TestToken has it).
interface IBurnable {
    function burn(uint256 amount) external;
}

/// @title FeeBurner
/// @notice On-chain counterpart of the simulator's fee burn: sells collected fees on a Uniswap V2
/// pair for the pair's other token and burns everything bought.
/// @dev Funding choice: `burn` PULLS `amountIn` from the caller with `transferFrom` (the caller
/// approves this contract first) and sends it straight to the pair, as Uniswap's router does;
/// the contract keeps no balance between calls. The amount bought is UniswapV2Library's
/// `getAmountOut` on the pair's reserves read in the same call:
///
///     amountOut = amountIn * 997 * reserveOut / (reserveIn * 1000 + amountIn * 997)   (floor)
///
/// All amounts are token base units. The bought token must expose `burn(uint256)` that lowers
/// its total supply (TestToken does).
contract FeeBurner {
    /// @notice `payer` sold `amountIn` of `tokenIn` on `pair` and `amountBurned` of `tokenOut`
    /// was bought and burned (base units of each token).
    event TokensBurned(
        address indexed pair,
        address indexed tokenIn,
        address indexed tokenOut,
        address payer,
        uint256 amountIn,
        uint256 amountBurned
    );

    /// @notice `token` is neither token0 nor token1 of `pair`.
    error TokenNotInPair(address pair, address token);
    /// @notice `amountIn` was zero.
    error ZeroAmountIn();
    /// @notice The swap would buy nothing (`amountIn` too small for the reserves).
    error ZeroAmountOut();
    /// @notice A reserve of the pair is empty.
    error InsufficientLiquidity(uint256 reserveIn, uint256 reserveOut);
    /// @notice A token call failed or returned false.
    error TokenCallFailed(address token);

    /// @notice Sells `amountIn` base units of `tokenIn` (pulled from the caller) on `pair` and
    /// burns all of the other token bought.
    /// @param pair A Uniswap V2 pair holding `tokenIn`.
    /// @param tokenIn The token sold (fees collected), base units.
    /// @param amountIn Base units of `tokenIn` to sell; the caller must have approved them.
    /// @return amountBurned Base units of the pair's other token bought and burned.
    function burn(address pair, address tokenIn, uint256 amountIn) external returns (uint256 amountBurned) {
        if (amountIn == 0) revert ZeroAmountIn();
        (address tokenOut, bool inIsToken0, uint256 amountOut) = _quote(pair, tokenIn, amountIn);
        if (amountOut == 0) revert ZeroAmountOut();

        _call(tokenIn, abi.encodeCall(IERC20Minimal.transferFrom, (msg.sender, pair, amountIn)));

        uint256 before = IERC20Minimal(tokenOut).balanceOf(address(this));
        if (inIsToken0) {
            IUniswapV2PairMinimal(pair).swap(0, amountOut, address(this), "");
        } else {
            IUniswapV2PairMinimal(pair).swap(amountOut, 0, address(this), "");
        }
        amountBurned = IERC20Minimal(tokenOut).balanceOf(address(this)) - before;

        IBurnable(tokenOut).burn(amountBurned);
        emit TokensBurned(pair, tokenIn, tokenOut, msg.sender, amountIn, amountBurned);
    }

    /// @notice What `burn(pair, tokenIn, amountIn)` would buy and burn now.
    /// @return tokenOut The pair's other token.
    /// @return amountOut Base units of `tokenOut` (UniswapV2Library.getAmountOut).
    function quote(address pair, address tokenIn, uint256 amountIn)
        external
        view
        returns (address tokenOut, uint256 amountOut)
    {
        (tokenOut,, amountOut) = _quote(pair, tokenIn, amountIn);
    }

    /// @notice UniswapV2Library.getAmountOut: output for `amountIn` against reserves
    /// (`reserveIn`, `reserveOut`) with the 0.3 % fee, floor division. Base units throughout.
    function getAmountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut) public pure returns (uint256) {
        if (reserveIn == 0 || reserveOut == 0) revert InsufficientLiquidity(reserveIn, reserveOut);
        uint256 amountInWithFee = amountIn * 997;
        return (amountInWithFee * reserveOut) / (reserveIn * 1000 + amountInWithFee);
    }

    function _quote(address pair, address tokenIn, uint256 amountIn)
        private
        view
        returns (address tokenOut, bool inIsToken0, uint256 amountOut)
    {
        address token0 = IUniswapV2PairMinimal(pair).token0();
        address token1 = IUniswapV2PairMinimal(pair).token1();
        if (tokenIn == token0) {
            (tokenOut, inIsToken0) = (token1, true);
        } else if (tokenIn == token1) {
            (tokenOut, inIsToken0) = (token0, false);
        } else {
            revert TokenNotInPair(pair, tokenIn);
        }
        (uint112 reserve0, uint112 reserve1,) = IUniswapV2PairMinimal(pair).getReserves();
        amountOut = inIsToken0
            ? getAmountOut(amountIn, reserve0, reserve1)
            : getAmountOut(amountIn, reserve1, reserve0);
    }

    /// @dev Calls `token` and accepts either no return data or `true` (tokens without a bool return).
    function _call(address token, bytes memory data) private {
        if (token.code.length == 0) revert TokenCallFailed(token);
        (bool ok, bytes memory ret) = token.call(data);
        if (!ok || (ret.length != 0 && !abi.decode(ret, (bool)))) revert TokenCallFailed(token);
    }
}
