#!/usr/bin/env node
// The Chromium peer: headless Debian Chromium driven by playwright-core, as a
// WebSocket client of weir's server. A local HTTP server serves a page (page.js and
// the shared agent.js); for each command read from stdin ({"id","url","protocols"})
// the page opens a WebSocket and the report it resolves with is printed as a JSON
// line (the protocol of ../node/peer.js in client mode).
//
// The browser gives a page no handshake status: a rejected handshake only fires
// error and close 1006. The status is read from what Chromium reports about the
// socket (playwright's websocket 'socketerror' event, and the console line
// "Unexpected response code: N").
'use strict';

const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { launchPersistent } = require('./launch');

// WEIR_CHROMIUM_ARGS adds flags (tls_helpers_test.go: the pin of its certificate).
const EXTRA = ['--headless'].concat((process.env.WEIR_CHROMIUM_ARGS || '').split(' ').filter(Boolean));

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const files = {
  '/': ['text/html', '<!doctype html><meta charset="utf-8"><title>weir interop</title>' +
    '<script src="/agent.js"></script><script src="/page.js"></script>'],
  '/agent.js': ['text/javascript', fs.readFileSync(path.join(__dirname, '..', 'agent.js'))],
  '/page.js': ['text/javascript', fs.readFileSync(path.join(__dirname, 'page.js'))],
};

function serve() {
  return new Promise((resolve) => {
    // WEIR_PAGE_CERT and WEIR_PAGE_KEY serve the page over https (wss cells).
    const tlsOpts = process.env.WEIR_PAGE_CERT &&
      { cert: fs.readFileSync(process.env.WEIR_PAGE_CERT), key: fs.readFileSync(process.env.WEIR_PAGE_KEY) };
    const handler = (req, res) => {
      const f = files[req.url];
      if (!f) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'Content-Type': f[0] });
      res.end(f[1]);
    };
    const server = tlsOpts ? require('https').createServer(tlsOpts, handler) : http.createServer(handler);
    server.scheme = tlsOpts ? 'https' : 'http';
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function main() {
  const server = await serve();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-chromium-'));
  const ctx = await launchPersistent(dir, EXTRA);
  const page = ctx.pages()[0] || await ctx.newPage();
  // Handshake failures by WebSocket URL, from the two places Chromium tells them.
  const failures = new Map();
  const noteFailure = (url, text) => {
    const m = /Unexpected response code: (\d+)/.exec(text);
    if (m) failures.set(url, parseInt(m[1], 10));
  };
  page.on('websocket', (ws) => ws.on('socketerror', (text) => noteFailure(ws.url(), text)));
  page.on('console', (msg) => {
    const m = /WebSocket connection to '([^']+)' failed/.exec(msg.text());
    if (m) noteFailure(m[1], msg.text());
  });
  await page.goto(server.scheme + '://127.0.0.1:' + server.address().port + '/');
  const cdp = await ctx.newCDPSession(page);
  const version = ((await cdp.send('Browser.getVersion')).product || '').replace(/^[^/]*\//, '');
  await cdp.detach();

  let shutting = false;
  const stop = async () => {
    if (shutting) return;
    shutting = true;
    await ctx.close().catch(() => {});
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };

  const run = async (cmd) => {
    let rep;
    try {
      rep = await page.evaluate((c) => window.runClient(c), cmd);
    } catch (e) {
      rep = { event: 'report', id: cmd.id, lib: 'chromium', open: false, error: String(e) };
    }
    if (!rep.open) {
      // The failure notice may trail the close event by a moment.
      for (let i = 0; i < 50 && !failures.has(cmd.url); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      rep.status = failures.get(cmd.url) || 0;
    }
    rep.lib = 'chromium ' + version;
    out(rep);
  };

  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim() !== '') run(JSON.parse(line));
  });
  rl.on('close', stop);
  out({ event: 'ready', version: version });
}

main().catch((e) => {
  process.stderr.write('chromium driver: ' + (e && e.stack || e) + '\n');
  process.exit(1);
});
