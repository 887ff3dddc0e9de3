#!/usr/bin/env node
// The chat demo as a cluster in a real browser: two `weir serve -nats` nodes
// (URLs as the arguments) bridged through one NATS server. Headless Chromium
// (playwright-core) opens ada and dan on node A, bob and cy on node B; dan and
// cy move to #dev with the room buttons, ada and bob stay in #lobby. bob and
// ada speak in #lobby (B to A, then A to B), cy in #dev. One JSON line says
// what each tab's log shows, for demo_test.go to judge. Each step waits for
// a sign that the cluster carries what the next one needs (a join notice
// from the other node means that node's interest reached NATS), never a
// fixed sleep. Waits that time out are reported, not thrown.
'use strict';

const { launch } = require('./launch');

const WAIT_MS = 15000;

async function main() {
  const [urlA, urlB] = process.argv.slice(2);
  if (!urlA || !urlB) throw new Error('usage: demo_cluster.js http://NODE_A/ http://NODE_B/');
  const browser = await launch();
  const result = { version: browser.version(), pages: [], waits: [] };
  try {
    const ctx = await browser.newContext();
    const tabs = {};
    const open = async (who, url, room) => {
      const page = await ctx.newPage();
      const tab = { who, page, errors: [] };
      page.on('console', (m) => { if (m.type() === 'error') tab.errors.push('console: ' + m.text()); });
      page.on('pageerror', (e) => tab.errors.push('page: ' + String(e)));
      await page.goto(url);
      await wait(result, who + ' in #lobby', page, () => document.getElementById('room').textContent === '#lobby');
      if (room !== 'lobby') {
        await page.click('#rooms button[data-room="' + room + '"]');
        await wait(result, who + ' in #' + room, page, (r) => document.getElementById('room').textContent === '#' + r, room);
      }
      tabs[who] = tab;
      return tab;
    };
    const seesJoinFromElsewhere = (t) => wait(result, t.who + ' hears a join from the other node', t.page,
      () => [...document.querySelectorAll('#log .note')].some((e) => / on \S+$/.test(e.textContent) && e.textContent.startsWith('someone joined')));
    const say = async (t, text) => {
      await t.page.fill('#name', t.who);
      await t.page.fill('#text', text);
      await t.page.press('#text', 'Enter');
    };
    const seesMessages = (t, n) => wait(result, t.who + ' sees ' + n + ' messages', t.page,
      (k) => document.querySelectorAll('#log .msg').length >= k, n);

    const ada = await open('ada', urlA, 'lobby');
    const dan = await open('dan', urlA, 'dev');
    const bob = await open('bob', urlB, 'lobby');
    await seesJoinFromElsewhere(ada); // node A's #lobby interest carries B's notices
    const cy = await open('cy', urlB, 'dev');
    await seesJoinFromElsewhere(dan); // node A's #dev interest likewise

    await say(bob, 'hi from bob'); // B to A; B's SUB went to NATS before this PUB, on one connection
    await seesMessages(ada, 1);
    await say(ada, 'hello from ada'); // A to B
    await seesMessages(bob, 2);
    await seesMessages(ada, 2);
    await say(cy, 'dev from cy'); // #dev, B to A
    await seesMessages(cy, 1);
    await seesMessages(dan, 1);

    for (const t of [ada, bob, cy, dan]) {
      const messages = await t.page.$$eval('#log .msg', (els) => els.map((e) => ({
        name: e.querySelector('.name').textContent,
        text: e.querySelector('.text').textContent,
        via: (e.querySelector('.node') || { textContent: '' }).textContent,
      })));
      result.pages.push({
        who: t.who, messages, errors: t.errors,
        online: await t.page.textContent('#online'),
        room: await t.page.textContent('#room'),
        node: await t.page.textContent('#node'),
      });
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

// wait runs page.waitForFunction and notes a timeout in result.waits.
async function wait(result, what, page, fn, arg) {
  try {
    await page.waitForFunction(fn, arg === undefined ? null : arg, { timeout: WAIT_MS });
  } catch (e) {
    result.waits.push(what + ': ' + String(e.message || e).split('\n')[0]);
  }
}

main().catch((e) => {
  process.stderr.write('demo_cluster.js: ' + (e && e.stack || e) + '\n');
  process.exit(1);
});
