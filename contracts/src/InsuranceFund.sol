// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IAaveV3PoolDeficit, IScaledBalanceTokenMinimal} from "./interfaces/IAaveV3PoolDeficit.sol";
import {IERC20Minimal} from "./interfaces/IERC20Minimal.sol";

/// @title InsuranceFund
/// @notice On-chain counterpart of the simulator's insurance fund for Aave V3.6: holds ERC-20s
/// and writes off a reserve's deficit (bad debt) the way Aave 3.6's Umbrella does.
/// @dev Aave 3.6 `Pool.eliminateReserveDeficit(asset, amount)` (modifier `onlyUmbrella`, logic in
/// `LiquidationLogic.executeEliminateDeficit`) BURNS THE CALLER'S aTokens of the reserve:
/// it requires the caller to have no debt, caps `amount` at the reserve's deficit, burns
/// `ceil(amount * RAY / liquidityIndex)` scaled aTokens from the caller (reverting with
/// `NotEnoughAvailableUserBalance` if it has fewer) and lowers the deficit by `amount`.
/// So `cover` first supplies underlying to the pool on its own behalf (minting itself aTokens)
/// and then calls `eliminateReserveDeficit`.
///
/// SETUP: the Pool only accepts this call from the address stored under the id
/// `bytes32("UMBRELLA")` (`Pool.UMBRELLA`) in its PoolAddressesProvider, so the provider's owner
/// must call `provider.setAddress(bytes32("UMBRELLA"), address(fund))` (see `UMBRELLA_ID`).
///
/// Rounding (Aave 3.5+ TokenMath): with liquidity index `i` (RAY), supplying `s` mints
/// `floor(s * RAY / i)` scaled aTokens and eliminating `x` burns `ceil(x * RAY / i)`. `cover`
/// therefore supplies just enough, `ceil(shortfallScaled * i / RAY)`, for the burn to succeed, and
/// writes off exactly the target; up to about one base unit may stay behind as aToken dust, which
/// later covers use first. A reserve that is frozen or paused refuses `supply`; to cover it, hold
/// its aTokens (any holder can transfer them to the fund) so no supply is needed.
/// Amounts are underlying-asset base units.
contract InsuranceFund {
    /// @notice The PoolAddressesProvider id under which Aave 3.6's Pool looks up its Umbrella.
    bytes32 public constant UMBRELLA_ID = "UMBRELLA";
    /// @dev Aave's RAY (1e27), the unit of the liquidity index.
    uint256 private constant RAY = 1e27;

    /// @notice The only account allowed to `cover` and `withdraw` (the deployer).
    address public immutable owner;

    /// @notice `covered` base units of `asset`'s deficit on `pool` were written off, after
    /// supplying `supplied` base units of the underlying; `requested` was asked for.
    event DeficitCovered(
        address indexed pool, address indexed asset, uint256 requested, uint256 supplied, uint256 covered
    );
    /// @notice `amount` base units of `token` left the fund for `to`.
    event Withdrawn(address indexed token, address indexed to, uint256 amount);

    /// @notice `caller` is not the owner.
    error NotOwner(address caller);
    /// @notice The reserve of `asset` has no deficit to cover.
    error NoDeficit(address pool, address asset);
    /// @notice `amount` was zero.
    error ZeroAmount();
    /// @notice A token call failed or returned false.
    error TokenCallFailed(address token);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor() {
        owner = msg.sender;
    }

    /// @notice Writes off up to `amount` base units of the deficit of `asset`'s reserve on `pool`,
    /// paid from the fund's balance of `asset` (and of its aToken, if it holds some).
    /// @dev target = min(amount, pool.getReserveDeficit(asset)); needScaled = ceil(target * RAY / i);
    /// when the fund's scaled aToken balance is below needScaled it supplies
    /// ceil((needScaled - scaledBalance) * i / RAY) underlying on its own behalf, then calls
    /// `pool.eliminateReserveDeficit(asset, target)`.
    /// @return covered Deficit written off, underlying base units (the Pool's return value).
    function cover(address pool, address asset, uint256 amount) external onlyOwner returns (uint256 covered) {
        if (amount == 0) revert ZeroAmount();
        IAaveV3PoolDeficit p = IAaveV3PoolDeficit(pool);
        uint256 deficit = p.getReserveDeficit(asset);
        if (deficit == 0) revert NoDeficit(pool, asset);
        uint256 target = amount < deficit ? amount : deficit; // deficit is a uint128: no overflow below

        uint256 index = p.getReserveNormalizedIncome(asset);
        uint256 needScaled = _divCeil(target * RAY, index);
        uint256 haveScaled = IScaledBalanceTokenMinimal(p.getReserveAToken(asset)).scaledBalanceOf(address(this));
        uint256 supplied;
        if (haveScaled < needScaled) {
            supplied = _divCeil((needScaled - haveScaled) * index, RAY);
            _call(asset, abi.encodeCall(IERC20Minimal.approve, (pool, supplied)));
            p.supply(asset, supplied, address(this), 0);
        }
        covered = p.eliminateReserveDeficit(asset, target);
        emit DeficitCovered(pool, asset, amount, supplied, covered);
    }

    /// @notice Sends `amount` base units of `token` (an underlying or an aToken) to `to`.
    function withdraw(address token, address to, uint256 amount) external onlyOwner {
        _call(token, abi.encodeCall(IERC20Minimal.transfer, (to, amount)));
        emit Withdrawn(token, to, amount);
    }

    function _divCeil(uint256 a, uint256 b) private pure returns (uint256) {
        return a == 0 ? 0 : (a - 1) / b + 1;
    }

    /// @dev Calls `token` and accepts either no return data or `true` (tokens without a bool return).
    function _call(address token, bytes memory data) private {
        if (token.code.length == 0) revert TokenCallFailed(token);
        (bool ok, bytes memory ret) = token.call(data);
        if (!ok || (ret.length != 0 && !abi.decode(ret, (bool)))) revert TokenCallFailed(token);
    }
}
