#!/usr/bin/env node
// CommonJS (bin/package.json says so): `rollout --version` then answers without starting Node's
// ES module loader (an empty ES module file alone takes 1.18× a bare `node -e 0`), and writes to
// fd 1 directly, as creating process.stdout costs about 4 ms more (bench/README.md). Every other
// command imports the ES module bundle, whose main() answers --version the same way.
'use strict';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  require('node:fs').writeSync(1, `${require('../package.json').version}\n`);
} else {
  // Node >= 22.1 keeps V8's compiled code for the bundle on disk between runs (Node 20 has no
  // such cache; the call is skipped there).
  require('node:module').enableCompileCache?.();
  import('../dist/rollout.js').then(async ({ main }) => process.exit(await main(argv)));
}
