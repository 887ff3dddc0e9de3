#!/usr/bin/env node
// The chat demo in a real browser: headless Debian Chromium, driven by
// playwright-core, opens two tabs on `weir serve`'s page (the URL is the first
// argument), sends a different message from each through the UI (one with Enter,
// one with the Send button) and prints one JSON line with what each tab's log
// shows, for demo_test.go to judge. Waits that time out are reported, not thrown,
// so the test sees the actual state.
'use strict';

const { launch } = require('./launch');

const WAIT_MS = 15000;

async function main() {
  const url = process.argv[2];
  if (!url) throw new Error('usage: demo.js http://HOST:PORT/');
  const browser = await launch();
  const result = { version: browser.version(), pages: [], waits: [] };
  try {
    const ctx = await browser.newContext();
    const tabs = [];
    for (const who of ['ada', 'bob']) {
      const page = await ctx.newPage();
      const tab = { who, page, errors: [] };
      page.on('console', (m) => { if (m.type() === 'error') tab.errors.push('console: ' + m.text()); });
      page.on('pageerror', (e) => tab.errors.push('page: ' + String(e)));
      await page.goto(url);
      await wait(result, who + ' connected', page, () => document.body.dataset.state === 'open');
      tabs.push(tab);
    }
    // Both tabs are in the chat before anyone speaks.
    for (const t of tabs) {
      await wait(result, t.who + ' sees 2 online', t.page, () => document.getElementById('online').textContent === '2');
    }

    const [a, b] = tabs;
    await a.page.fill('#name', 'ada');
    await a.page.fill('#text', 'hello from ada');
    await a.page.press('#text', 'Enter');
    await b.page.fill('#name', 'bob');
    await b.page.fill('#text', 'hi from bob');
    await b.page.click('button[type=submit]');

    for (const t of tabs) {
      await wait(result, t.who + ' sees 2 messages', t.page, () => document.querySelectorAll('#log .msg').length >= 2);
    }
    for (const t of tabs) {
      const messages = await t.page.$$eval('#log .msg', (els) => els.map((e) => ({
        name: e.querySelector('.name').textContent,
        text: e.querySelector('.text').textContent,
      })));
      const online = await t.page.textContent('#online');
      const input = await t.page.inputValue('#text');
      result.pages.push({ who: t.who, messages, online, input, errors: t.errors });
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

// wait runs page.waitForFunction and notes a timeout in result.waits.
async function wait(result, what, page, fn) {
  try {
    await page.waitForFunction(fn, null, { timeout: WAIT_MS });
  } catch (e) {
    result.waits.push(what + ': ' + String(e.message || e).split('\n')[0]);
  }
}

main().catch((e) => {
  process.stderr.write('demo.js: ' + (e && e.stack || e) + '\n');
  process.exit(1);
});
