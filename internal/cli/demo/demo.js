// weir chat: one WebSocket to /chat. The page is in one room at a time (the
// lobby first; the buttons move it); every message sent goes, through the
// server's pub/sub hub, to every page in that room, this one included, and with
// `weir serve -nats` to the pages in that room on every node. Text is always
// rendered as text.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const log = $('log'), form = $('send'), nameIn = $('name'), textIn = $('text');
  const state = $('state'), online = $('online'), stats = $('stats');
  const roomOut = $('room'), nodeOut = $('node'), roomsNav = $('rooms');
  const sendButton = form.querySelector('button');
  const maxLog = 500;
  let ws = null;
  let retry = 500;
  let room = null; // the room this page is in, as the server last said
  let node = '';   // the node this page talks to (its own join says)

  try { nameIn.value = localStorage.getItem('weir-chat-name') || ''; } catch (e) { /* storage off */ }

  function setState(s, text) {
    document.body.dataset.state = s;
    state.textContent = text;
    sendButton.disabled = s !== 'open';
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function append(li) {
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.append(li);
    while (log.children.length > maxLog) log.firstElementChild.remove();
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  function clock(ms) {
    const d = ms ? new Date(ms) : new Date();
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  // showRooms draws one button per room, the current one pressed.
  function showRooms(names) {
    if (names) {
      roomsNav.replaceChildren(...names.map((r) => {
        const b = el('button', '', '#' + r);
        b.type = 'button';
        b.dataset.room = r;
        b.addEventListener('click', () => {
          if (ws && ws.readyState === WebSocket.OPEN && r !== room) ws.send(JSON.stringify({ join: r }));
        });
        return b;
      }));
    }
    for (const b of roomsNav.children) b.setAttribute('aria-pressed', String(b.dataset.room === room));
    roomOut.textContent = room ? '#' + room : 'no room';
  }

  // elsewhere names another node, for events that came through the cluster.
  function elsewhere(m) {
    return m.node && m.node !== node ? ' on ' + m.node : '';
  }

  function onEvent(m) {
    switch (m.type) {
      case 'message': {
        if (m.room !== room) return; // sent before this page moved
        const li = el('li', 'msg');
        li.append(el('time', '', clock(m.time)), el('span', 'name', m.name), el('span', 'text', m.text));
        if (elsewhere(m)) li.append(el('span', 'node', 'via ' + m.node));
        append(li);
        break;
      }
      case 'presence':
        if (m.self) {
          node = m.node || '';
          nodeOut.textContent = node ? 'on ' + node : '';
          room = m.event === 'leave' ? null : m.room;
          showRooms(m.rooms);
          if (m.event === 'leave') {
            online.textContent = '–';
            append(el('li', 'note', 'you left #' + m.room));
            return;
          }
        } else if (m.room !== room) {
          return;
        }
        // "online" counts the sender's node: show this node's, name the others.
        if (!elsewhere(m)) online.textContent = String(m.online || 0);
        append(el('li', 'note', (m.event === 'leave' ? 'someone left' : m.self ? 'you joined' : 'someone joined') +
          (m.self ? ' #' + m.room : '') + elsewhere(m) + (elsewhere(m) ? '' : ' · ' + (m.online || 0) + ' online')));
        break;
      case 'error':
        append(el('li', 'error', 'server: ' + m.text));
        break;
    }
  }

  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    setState('connecting', 'connecting');
    ws = new WebSocket(scheme + location.host + '/chat');
    ws.onopen = () => {
      retry = 500;
      setState('open', 'connected');
    };
    ws.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch (err) { return; }
      onEvent(m);
    };
    ws.onclose = () => {
      setState('closed', 'disconnected, retrying');
      online.textContent = '–';
      // A new connection starts in the lobby; go back to the room this page was in.
      const back = room;
      room = null;
      setTimeout(() => { connect(); if (back) rejoin(back); }, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }

  // rejoin asks for room once the new connection is open.
  function rejoin(r) {
    ws.addEventListener('open', () => { if (r !== 'lobby') ws.send(JSON.stringify({ join: r })); }, { once: true });
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = textIn.value.trim();
    if (text === '' || !ws || ws.readyState !== WebSocket.OPEN) return;
    const name = nameIn.value.trim();
    ws.send(JSON.stringify({ name: name, text: text }));
    try { localStorage.setItem('weir-chat-name', name); } catch (err) { /* storage off */ }
    textIn.value = '';
    textIn.focus();
  });

  // count renders "1 connection", "2 connections".
  function count(n, noun) {
    return n + ' ' + noun + (n === 1 ? '' : 's');
  }

  // The footer shows the server's /stats every few seconds while the page is visible.
  async function pollStats() {
    if (document.visibilityState === 'visible') {
      try {
        const s = await (await fetch('/stats', { cache: 'no-store' })).json();
        stats.textContent = count(s.connections.total, 'connection') + ' · ' + count(s.messages.in, 'message') + ' in, ' +
          s.messages.out + ' out' + (s.pubsub.remote ? ', ' + s.pubsub.remote + ' from other nodes' : '') +
          ' · ' + s.goroutines + ' goroutines · heap ' + (s.heap.alloc_bytes / (1 << 20)).toFixed(1) + ' MiB';
      } catch (err) { /* server gone: the state line says so */ }
    }
    setTimeout(pollStats, 3000);
  }

  connect();
  pollStats();
})();
