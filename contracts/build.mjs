#!/usr/bin/env node
// contracts/build.mjs — compile Solidity with the pinned solc-js from node_modules.
//
//   node contracts/build.mjs defisim     [--out DIR]  contracts/src        -> contracts/build (committed)
//   node contracts/build.mjs aave-v3.6   [--out DIR]  Aave V3.6 sources    -> contracts/out/aave-v3.6
//   node contracts/build.mjs morpho-blue [--out DIR]  Morpho Blue sources  -> contracts/out/morpho-blue
//
// Options: --force (rebuild even if the stamp is fresh), --check (exit 0 if the stamp is fresh,
// 3 if stale; builds nothing). Env: DEFISIM_NODE_MODULES overrides <repo>/node_modules.
//
// One JSON per deployable contract or library, keys in this order:
//   contractName, sourceName, abi, bytecode, deployedBytecode, linkReferences,
//   deployedLinkReferences, compiler {version, settings} [, abiMergedFrom]
// written with 2-space indent and a trailing newline, so the same inputs give the same bytes.
// Written: every contract with bytecode that is defined in an entry file, plus every library
// those link (the build fails if a linked library is not compiled).
//
// Protocol families write `.stamp.json` (sha256 of every input file read: sources, this script
// — which holds the settings — and the compiler's package.json) and skip the build when all
// hashes still match. The defisim family writes no stamp: its outputs are committed and a test
// rebuilds them and compares bytes.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CONTRACTS = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(CONTRACTS);
const NODE_MODULES = process.env.DEFISIM_NODE_MODULES
  ? path.resolve(process.env.DEFISIM_NODE_MODULES)
  : path.join(REPO, 'node_modules');
const STAMP = '.stamp.json';

const AAVE = '@aave-dao/aave-v3-origin/src/contracts';
const MORPHO = '@morpho-org/morpho-blue/src';

// Source unit names: files of this repo are named by their path from the repo root
// ("contracts/src/X.sol"); everything else by its path inside node_modules
// ("@openzeppelin/contracts/token/ERC20/IERC20.sol"). No absolute paths reach the compiler.
const FAMILIES = {
  defisim: {
    // Our own contracts. solc 0.8.27's default EVM (cancun) runs on Anvil; metadata hash off so
    // comment edits do not change bytecode (the CBOR tail still names the compiler version).
    compiler: 'solc',
    compilerVersion: '0.8.27',
    outDir: path.join(CONTRACTS, 'build'),
    stamp: false,
    entries: () => listSol(path.join(CONTRACTS, 'src')).map((f) => rel(REPO, f)),
    settings: {
      evmVersion: 'cancun',
      metadata: { bytecodeHash: 'none' },
      optimizer: { enabled: true, runs: 200 },
      remappings: [],
    },
  },
  'aave-v3.6': {
    // Upstream foundry.toml at v3.6.0: solc 0.8.27, optimizer on, 200 runs, evm shanghai,
    // bytecode_hash none, no via-IR. Remappings mirror upstream's remappings.txt, pointed at the
    // npm copies of OpenZeppelin and bgd-labs' solidity-utils.
    compiler: 'solc',
    compilerVersion: '0.8.27',
    outDir: path.join(CONTRACTS, 'out', 'aave-v3.6'),
    stamp: true,
    entries: () =>
      [
        'protocol/configuration/PoolAddressesProvider.sol',
        'protocol/configuration/ACLManager.sol',
        'instances/PoolInstance.sol',
        'instances/PoolConfiguratorInstance.sol',
        'instances/ATokenInstance.sol',
        'instances/VariableDebtTokenInstance.sol',
        'misc/AaveOracle.sol',
        'misc/DefaultReserveInterestRateStrategyV2.sol',
        'misc/aave-upgradeability/InitializableImmutableAdminUpgradeabilityProxy.sol',
        'helpers/AaveProtocolDataProvider.sol',
        // The libraries Pool and PoolConfigurator link (checked against linkReferences below).
        'protocol/libraries/logic/BorrowLogic.sol',
        'protocol/libraries/logic/ConfiguratorLogic.sol',
        'protocol/libraries/logic/FlashLoanLogic.sol',
        'protocol/libraries/logic/LiquidationLogic.sol',
        'protocol/libraries/logic/PoolLogic.sol',
        'protocol/libraries/logic/SupplyLogic.sol',
      ].map((f) => `${AAVE}/${f}`),
    settings: {
      evmVersion: 'shanghai',
      metadata: { bytecodeHash: 'none' },
      optimizer: { enabled: true, runs: 200 },
      remappings: [
        'openzeppelin-contracts-upgradeable/contracts/=@openzeppelin/contracts-upgradeable/',
        'openzeppelin-contracts/contracts/=@openzeppelin/contracts/',
        'solidity-utils/=@bgd-labs/solidity-utils/src/',
      ],
    },
  },
  'morpho-blue': {
    // Upstream foundry.toml / hardhat config: solc 0.8.19, via-IR, optimizer 999999 runs,
    // evm paris, bytecode_hash none (the settings of the deployed Morpho Blue).
    compiler: 'solc-0.8.19',
    compilerVersion: '0.8.19',
    outDir: path.join(CONTRACTS, 'out', 'morpho-blue'),
    stamp: true,
    entries: () =>
      [
        'Morpho.sol',
        'libraries/EventsLib.sol',
        'mocks/ERC20Mock.sol',
        'mocks/FlashBorrowerMock.sol',
        'mocks/IrmMock.sol',
        'mocks/OracleMock.sol',
      ].map((f) => `${MORPHO}/${f}`),
    settings: {
      evmVersion: 'paris',
      metadata: { bytecodeHash: 'none' },
      optimizer: { enabled: true, runs: 999999 },
      remappings: [],
      viaIR: true,
    },
    // solc < 0.8.20 leaves events emitted through a library (EventsLib) out of the emitting
    // contract's ABI; add them to Morpho's so logs decode with Morpho's ABI alone.
    mergeAbiEvents: { Morpho: [`${MORPHO}/libraries/EventsLib.sol:EventsLib`] },
  },
};

const OUTPUTS = [
  'abi',
  'evm.bytecode.object',
  'evm.bytecode.linkReferences',
  'evm.deployedBytecode.object',
  'evm.deployedBytecode.linkReferences',
];

class BuildError extends Error {}

function main(argv) {
  const args = parseArgs(argv);
  const fam = FAMILIES[args.family];
  if (!fam) {
    throw new BuildError(
      `unknown family ${JSON.stringify(args.family)}; expected one of: ${Object.keys(FAMILIES).join(', ')}`,
    );
  }
  const outDir = args.out ? path.resolve(args.out) : fam.outDir;
  if (!fs.existsSync(NODE_MODULES)) {
    throw new BuildError(`node_modules not found at ${NODE_MODULES}; run \`npm ci\` in ${REPO}`);
  }
  if (fam.stamp && !args.force && stampIsFresh(outDir)) {
    log(`${args.family}: up to date (${rel(REPO, outDir)}/${STAMP})`);
    return 0;
  }
  if (args.check) {
    log(`${args.family}: stale`);
    return 3;
  }
  build(args.family, fam, outDir);
  return 0;
}

function parseArgs(argv) {
  const args = { family: null, out: null, force: false, check: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') {
      if (i + 1 >= argv.length) throw new BuildError('--out needs a directory');
      args.out = argv[++i];
    } else if (a.startsWith('--out=')) args.out = a.slice(6);
    else if (a === '--force') args.force = true;
    else if (a === '--check') args.check = true;
    else if (a.startsWith('-')) throw new BuildError(`unknown option ${a}`);
    else if (args.family === null) args.family = a;
    else throw new BuildError(`unexpected argument ${a}`);
  }
  if (args.family === null) {
    throw new BuildError(
      `usage: node contracts/build.mjs {${Object.keys(FAMILIES).join('|')}} [--out DIR] [--force] [--check]`,
    );
  }
  return args;
}

// ---------------------------------------------------------------------------------------------
// Compilation

function build(family, fam, outDir) {
  const t0 = performance.now();
  const solc = loadCompiler(fam);
  const version = solc.version();
  if (!version.startsWith(`${fam.compilerVersion}+`)) {
    throw new BuildError(
      `npm package ${fam.compiler} is solc ${version}, expected ${fam.compilerVersion}; run \`npm ci\``,
    );
  }
  const t1 = performance.now();

  const inputs = new Map(); // stamp key -> sha256 of the bytes given to the compiler
  inputs.set(`repo:${rel(REPO, fileURLToPath(import.meta.url))}`, sha256(fs.readFileSync(fileURLToPath(import.meta.url))));
  const compilerPkg = path.join(NODE_MODULES, fam.compiler, 'package.json');
  inputs.set(`nm:${fam.compiler}/package.json`, sha256(fs.readFileSync(compilerPkg)));

  const entries = fam.entries();
  const sources = {};
  for (const name of entries) {
    try {
      sources[name] = { content: readSource(name, inputs) };
    } catch (e) {
      throw new BuildError(`cannot read entry ${name}: ${e.message}; run \`npm ci\``);
    }
  }
  const outputSelection = {};
  for (const name of entries) outputSelection[name] = { '*': OUTPUTS };
  const input = {
    language: 'Solidity',
    sources,
    settings: { ...fam.settings, outputSelection },
  };

  const findImports = (name) => {
    try {
      return { contents: readSource(name, inputs) };
    } catch (e) {
      return { error: `cannot read ${name}: ${e.message}` };
    }
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const t2 = performance.now();

  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  const warnings = (output.errors ?? []).filter((e) => e.severity === 'warning');
  if (errors.length) {
    const text = errors.map((e) => e.formattedMessage ?? e.message).join('\n');
    throw new BuildError(`solc ${version} failed to compile ${family}:\n${text}`);
  }

  const artifacts = collectArtifacts(fam, entries, output, {
    version,
    settings: sortKeys(fam.settings),
  });
  fs.mkdirSync(outDir, { recursive: true });
  const written = new Set();
  for (const art of artifacts) {
    const file = `${art.contractName}.json`;
    writeAtomic(path.join(outDir, file), `${JSON.stringify(art, null, 2)}\n`);
    written.add(file);
  }
  removeStaleArtifacts(outDir, written);
  if (fam.stamp) {
    const sorted = Object.fromEntries([...inputs.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    const stamp = {
      family,
      compiler: version,
      digest: sha256(JSON.stringify(sorted)),
      inputs: sorted,
      outputs: [...written].sort(),
    };
    writeAtomic(path.join(outDir, STAMP), `${JSON.stringify(stamp, null, 2)}\n`);
  }
  const secs = (ms) => (ms / 1000).toFixed(1);
  log(
    `${family}: solc ${version}: ${inputs.size - 2} sources, ${written.size} artifacts -> ` +
      `${rel(process.cwd(), outDir) || '.'} (load ${secs(t1 - t0)} s, compile ${secs(t2 - t1)} s, ` +
      `${warnings.length} warnings)`,
  );
}

function loadCompiler(fam) {
  const pkg = path.join(NODE_MODULES, fam.compiler, 'package.json');
  if (!fs.existsSync(pkg)) {
    throw new BuildError(`npm package ${fam.compiler} missing from ${NODE_MODULES}; run \`npm ci\``);
  }
  return createRequire(pkg)(path.dirname(pkg));
}

/** Reads a source unit by name; records its hash in `inputs`. */
function readSource(name, inputs) {
  if (path.isAbsolute(name) || name.split('/').includes('..')) {
    throw new Error('only relative, normalised source unit names are allowed');
  }
  const [key, file] = name.startsWith('contracts/')
    ? [`repo:${name}`, path.join(REPO, name)]
    : [`nm:${name}`, path.join(NODE_MODULES, name)];
  const bytes = fs.readFileSync(file);
  inputs.set(key, sha256(bytes));
  return bytes.toString('utf8');
}

function collectArtifacts(fam, entries, output, compiler) {
  const byId = new Map(); // "source:Name" -> artifact
  for (const source of entries) {
    for (const [name, c] of Object.entries(output.contracts?.[source] ?? {})) {
      if (!c.evm.bytecode.object) continue; // interface or abstract contract
      byId.set(`${source}:${name}`, makeArtifact(source, name, c, compiler));
    }
  }
  // Every linked library must be among the artifacts.
  for (const art of byId.values()) {
    for (const refs of [art.linkReferences, art.deployedLinkReferences]) {
      for (const [source, libs] of Object.entries(refs)) {
        for (const lib of Object.keys(libs)) {
          if (!byId.has(`${source}:${lib}`)) {
            throw new BuildError(
              `${art.contractName} links library ${source}:${lib}, which is not compiled; ` +
                'add its file to the entries in contracts/build.mjs',
            );
          }
        }
      }
    }
  }
  for (const [target, extras] of Object.entries(fam.mergeAbiEvents ?? {})) {
    const art = [...byId.values()].find((a) => a.contractName === target);
    if (!art) throw new BuildError(`mergeAbiEvents: no artifact named ${target}`);
    const have = new Set(art.abi.filter((e) => e.type === 'event').map(eventSignature));
    const added = [];
    for (const id of extras) {
      const src = byId.get(id);
      if (!src) throw new BuildError(`mergeAbiEvents: ${id} is not compiled`);
      for (const ev of src.abi.filter((e) => e.type === 'event')) {
        if (!have.has(eventSignature(ev))) {
          have.add(eventSignature(ev));
          added.push(ev);
        }
      }
    }
    added.sort((a, b) => (eventSignature(a) < eventSignature(b) ? -1 : 1));
    art.abi = [...art.abi, ...added];
    art.abiMergedFrom = extras;
  }
  const names = new Map();
  for (const [id, art] of byId) {
    if (names.has(art.contractName)) {
      throw new BuildError(`two contracts named ${art.contractName}: ${names.get(art.contractName)} and ${id}`);
    }
    names.set(art.contractName, id);
  }
  return [...byId.values()].sort((a, b) => (a.contractName < b.contractName ? -1 : 1));
}

function makeArtifact(source, name, c, compiler) {
  return {
    contractName: name,
    sourceName: source,
    abi: c.abi,
    bytecode: `0x${c.evm.bytecode.object}`,
    deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
    linkReferences: sortKeys(c.evm.bytecode.linkReferences ?? {}),
    deployedLinkReferences: sortKeys(c.evm.deployedBytecode.linkReferences ?? {}),
    compiler,
  };
}

function eventSignature(ev) {
  return `${ev.name}(${ev.inputs.map((i) => i.type).join(',')})`;
}

// ---------------------------------------------------------------------------------------------
// Files, stamps

function stampIsFresh(outDir) {
  let stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(path.join(outDir, STAMP), 'utf8'));
  } catch {
    return false;
  }
  for (const [key, digest] of Object.entries(stamp.inputs ?? {})) {
    const file = key.startsWith('repo:') ? path.join(REPO, key.slice(5)) : path.join(NODE_MODULES, key.slice(3));
    let bytes;
    try {
      bytes = fs.readFileSync(file);
    } catch {
      return false;
    }
    if (sha256(bytes) !== digest) return false;
  }
  return (stamp.outputs ?? []).every((f) => fs.existsSync(path.join(outDir, f))) && stamp.outputs?.length > 0;
}

/** Deletes artifact JSONs in `outDir` that this build did not write (never other files). */
function removeStaleArtifacts(outDir, written) {
  for (const file of fs.readdirSync(outDir)) {
    if (!file.endsWith('.json') || file === STAMP || written.has(file)) continue;
    const full = path.join(outDir, file);
    try {
      const j = JSON.parse(fs.readFileSync(full, 'utf8'));
      if (j && typeof j === 'object' && 'contractName' in j && 'compiler' in j) fs.unlinkSync(full);
    } catch {
      // not ours: leave it
    }
  }
}

function writeAtomic(file, text) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function listSol(dir) {
  const out = [];
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, ent.name);
    if (ent.isDirectory()) out.push(...listSol(full));
    else if (ent.name.endsWith('.sol')) out.push(full);
  }
  return out.sort();
}

function rel(from, to) {
  return path.relative(from, to).split(path.sep).join('/');
}

function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys(value[k])]),
    );
  }
  return value;
}

function log(msg) {
  process.stderr.write(`${msg}\n`);
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  if (e instanceof BuildError) {
    log(`build.mjs: ${e.message}`);
    process.exitCode = 1;
  } else {
    throw e;
  }
}
