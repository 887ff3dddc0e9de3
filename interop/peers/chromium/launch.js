// Launching Debian's Chromium for the interop peers (driver.js, demo.js,
// demo_cluster.js). On a busy machine Chromium now and then dies at start
// (SIGSEGV before its first page, seen once in a whole interop run): that
// says nothing about weir, so a failed launch is tried again, up to three
// times in all, before the error goes to the test.
'use strict';

const { chromium } = require('playwright-core');

const EXECUTABLE = process.env.WEIR_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TRIES = 3;

async function retry(what, start) {
  for (let i = 1; ; i++) {
    try {
      return await start();
    } catch (e) {
      if (i >= TRIES) throw e;
      process.stderr.write(`chromium ${what}: try ${i} of ${TRIES} failed, again: ${String(e).split('\n')[0]}\n`);
    }
  }
}

// launch starts a browser with ARGS and extra.
function launch(extra = []) {
  return retry('launch', () => chromium.launch({ executablePath: EXECUTABLE, headless: true, args: ARGS.concat(extra) }));
}

// launchPersistent starts a browser on the profile in dir.
function launchPersistent(dir, extra = []) {
  return retry('launchPersistentContext', () => chromium.launchPersistentContext(dir, {
    executablePath: EXECUTABLE, headless: true, args: ARGS.concat(extra),
  }));
}

module.exports = { launch, launchPersistent, ARGS };
