#!/usr/bin/env node
// The one place that ends the process. CommonJS (see package.json here): the bundle it loads
// (dist/redkeep.cjs, built from dist/cli.js by bundle.mjs) needs no ES module loader.
'use strict';
const { main } = require('../dist/redkeep.cjs');

// `redkeep decode x.pcap | head` closes our stdout early: that is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
    // Everything should be closed by now; if a stray handle remains, do not hang on it.
    setTimeout(() => process.exit(status), 1000).unref();
  },
  (err) => {
    process.stderr.write(`redkeep: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(70); // EX_SOFTWARE, as EXIT.internal in src/exit-status.ts
  },
);
