// weir chat: one WebSocket to /chat; every message sent is broadcast by the server
// to every page connected, this one included. Text is always rendered as text.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const log = $('log'), form = $('send'), nameIn = $('name'), textIn = $('text');
  const state = $('state'), online = $('online'), stats = $('stats');
  const sendButton = form.querySelector('button');
  const maxLog = 500;
  let ws = null;
  let retry = 500;

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

  function onEvent(m) {
    switch (m.type) {
      case 'message': {
        const li = el('li', 'msg');
        li.append(el('time', '', clock(m.time)), el('span', 'name', m.name), el('span', 'text', m.text));
        append(li);
        break;
      }
      case 'presence':
        online.textContent = String(m.online || 0);
        // The server marks this page's own join with "self".
        append(el('li', 'note', (m.event === 'leave' ? 'someone left' : m.self ? 'you joined' : 'someone joined') +
          ' · ' + (m.online || 0) + ' online'));
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
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    };
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
          s.messages.out + ' out · ' + s.goroutines + ' goroutines · heap ' +
          (s.heap.alloc_bytes / (1 << 20)).toFixed(1) + ' MiB';
      } catch (err) { /* server gone: the state line says so */ }
    }
    setTimeout(pollStats, 3000);
  }

  connect();
  pollStats();
})();
