// Evaluates Morpho's own JS port of the AdaptiveCurveIrm (`AdaptiveCurveIrmLib` of
// @morpho-org/blue-sdk, pinned in package.json) on a batch of inputs, for
// test_adaptive_curve_irm_blue_sdk.py.
//
// usage: node blue_sdk_adaptive_curve.cjs NODE_MODULES_DIR < request.json > answer.json
// request: {"wexp": [x, ...], "rates": [[tSA, tBA, startRateAtTarget, elapsed], ...]}, every
// number a decimal string; answer: {"constants": {...}, "wexp": [...], "rates":
// [[utilization, avgBorrowRate, endBorrowRate, endRateAtTarget], ...]}, decimal strings.
//
// The module is loaded by its file path: the package index also loads `viem`, which blue-sdk
// 6.4.0 uses at run time but lists only as a dev dependency; the IRM math needs only
// morpho-ts (its MathLib) and the package's own constants.
"use strict";

const fs = require("fs");
const path = require("path");

const modules = path.resolve(process.argv[2]);
const sdk = path.join(modules, "@morpho-org", "blue-sdk", "lib", "cjs");
const { AdaptiveCurveIrmLib: L } = require(path.join(sdk, "math", "AdaptiveCurveIrmLib.js"));
const { MathLib } = require(path.join(sdk, "math", "MathLib.js"));

const request = JSON.parse(fs.readFileSync(0, "utf8"));
const s = (x) => x.toString();

const constants = {};
for (const name of ["CURVE_STEEPNESS", "TARGET_UTILIZATION", "INITIAL_RATE_AT_TARGET", "ADJUSTMENT_SPEED",
  "MIN_RATE_AT_TARGET", "MAX_RATE_AT_TARGET", "LN_2_INT", "LN_WEI_INT", "WEXP_UPPER_BOUND", "WEXP_UPPER_VALUE"]) {
  constants[name] = s(L[name]);
}

const wexp = request.wexp.map((x) => s(L.wExp(BigInt(x))));

const rates = request.rates.map(([tsa, tba, start, elapsed]) => {
  const supply = BigInt(tsa);
  // As AdaptiveCurveIrm._borrowRate: tBA.wDivDown(tSA), 0 for an empty market.
  const utilization = supply > 0n ? MathLib.wDivDown(BigInt(tba), supply) : 0n;
  const r = L.getBorrowRate(utilization, BigInt(start), BigInt(elapsed));
  return [s(utilization), s(r.avgBorrowRate), s(r.endBorrowRate), s(r.endRateAtTarget)];
});

process.stdout.write(JSON.stringify({ constants, wexp, rates }));
