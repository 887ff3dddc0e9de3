#!/usr/bin/env node
// A Node WebSocket peer for weir's interop matrix, on one of three npm libraries:
//
//   node peer.js server ws|websocket|watershed   listen on 127.0.0.1:0
//   node peer.js client ws|websocket|watershed   dial what stdin asks for
//
// With WEIR_TLS_CERT and WEIR_TLS_KEY set (PEM files), a server listens over TLS
// (https.createServer with that key and certificate: wss://, for weir's client in
// ../../tls_matrix_test.go); without them it is plain http as always.
//
// The protocol with the Go driver is JSON lines (see ../../doc.go): the server
// prints {"event":"listening","port":N} and, when each connection ends, a report
// {"event":"report","id":...}; the id is the connection's ?id= query. The client
// prints {"event":"ready"}, then reads commands {"id","url","protocols","version"}
// from stdin, one per line, and prints one report per command. Each open
// connection runs the echo agent (../agent.js).
'use strict';

const fs = require('fs');
const http = require('http');
const readline = require('readline');
const { Agent } = require('../agent.js');

const SUPPORTED = ['weir.v2', 'weir.v3']; // a server's subprotocols, in preference order
const MAX = 64 << 20; // message and frame limits: above the matrix's 8 MiB payloads
const REJECT_REASON = 'peer says no';

// tlsOptions are https.createServer's key and certificate in TLS mode, else null.
function tlsOptions() {
  const cert = process.env.WEIR_TLS_CERT;
  const key = process.env.WEIR_TLS_KEY;
  if (!cert || !key) return null;
  return { cert: fs.readFileSync(cert), key: fs.readFileSync(key) };
}

// createServer is http.createServer, or https.createServer in TLS mode.
function createServer(handler) {
  const opts = tlsOptions();
  return opts ? require('https').createServer(opts, handler) : http.createServer(handler);
}

function notFound(req, res) {
  res.writeHead(404);
  res.end();
}

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function newReport(id, lib) {
  return { event: 'report', id: id, lib: lib, open: false, status: 0, statusReason: '', subprotocol: '', version: 0, close: null, error: '' };
}

// once returns a function that prints the report the first time it is called.
function once(rep) {
  let done = false;
  return function () {
    if (done) return;
    done = true;
    out(rep);
  };
}

function queryID(url) {
  return new URL(url, 'http://peer').searchParams.get('id') || '';
}

function pathOf(url) {
  return new URL(url, 'http://peer').pathname;
}

function pick(offered) {
  for (const p of SUPPORTED) {
    if (offered.indexOf(p) >= 0) return p;
  }
  return null;
}

function toBuffer(data) {
  return Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
}

// ---- ws ----

function wsConn(ws, version, rep, finish) {
  const conn = {
    lib: 'ws ' + require('ws/package.json').version,
    protocol: ws.protocol,
    version: version,
    send(isText, data) { ws.send(data, { binary: !isText }); },
    sendFragments(isText, data, n) {
      const b = toBuffer(data);
      if (b.length <= n) { ws.send(b, { binary: !isText }); return; }
      for (let i = 0; i < b.length; i += n) {
        ws.send(b.subarray(i, i + n), { binary: !isText, fin: i + n >= b.length });
      }
    },
    ping(p) { ws.ping(p); },
    close(code, reason) { ws.close(code, reason); },
  };
  const agent = new Agent(conn);
  rep.open = true;
  rep.subprotocol = ws.protocol;
  rep.version = version;
  ws.on('message', (data, isBinary) => agent.message(!isBinary, isBinary ? data : data.toString('utf8')));
  ws.on('pong', (p) => agent.pong(p.toString('utf8')));
  ws.on('error', (e) => { rep.error = rep.error || String(e); });
  ws.on('close', (code, reason) => {
    rep.close = { code: code, reason: reason.toString('utf8') };
    finish();
  });
}

function wsServer() {
  const { WebSocketServer } = require('ws');
  // Plain: ws listens itself; TLS mode: on an https server of ours.
  const server = tlsOptions() ? createServer(notFound) : null;
  const wss = new WebSocketServer({
    ...(server ? { server: server } : { host: '127.0.0.1', port: 0 }), maxPayload: MAX,
    // Accepted only when the client offers it (weir's deflate variants do).
    perMessageDeflate: { threshold: 0 },
    handleProtocols: (protocols) => pick([...protocols]) || false,
    verifyClient: (info, cb) => {
      if (pathOf(info.req.url) === '/reject') cb(false, 403, REJECT_REASON, { 'X-WebSocket-Reject-Reason': REJECT_REASON });
      else cb(true);
    },
  });
  wss.on('listening', () => out({ event: 'listening', port: wss.address().port }));
  wss.on('connection', (ws, req) => {
    const rep = newReport(queryID(req.url), 'ws');
    wsConn(ws, parseInt(req.headers['sec-websocket-version'], 10), rep, once(rep));
  });
  if (server) server.listen(0, '127.0.0.1');
}

function wsClient(cmd) {
  const WebSocket = require('ws');
  const rep = newReport(cmd.id, 'ws');
  const finish = once(rep);
  const version = cmd.version || 13;
  const ws = new WebSocket(cmd.url, cmd.protocols || [], { protocolVersion: version, maxPayload: MAX });
  ws.on('unexpected-response', (req, res) => {
    rep.status = res.statusCode;
    rep.statusReason = res.headers['x-websocket-reject-reason'] || res.statusMessage;
    res.resume();
    req.destroy();
    finish();
  });
  ws.on('open', () => wsConn(ws, version, rep, finish));
  ws.on('error', (e) => {
    rep.error = rep.error || String(e);
    if (!rep.open) finish();
  });
}

// ---- websocket (WebSocket-Node) ----

function wnConn(c, rep, finish) {
  const conn = {
    lib: 'websocket ' + require('websocket/package.json').version,
    protocol: c.protocol,
    version: c.webSocketVersion,
    send(isText, data) {
      if (isText) c.sendUTF(data); else c.sendBytes(data);
    },
    // WebSocket-Node fragments with its own fragmentationThreshold (16 KiB by
    // default); a per-connection copy of the config sets it to n.
    sendFragments(isText, data, n) {
      if (c.config.fragmentationThreshold !== n) {
        c.config = Object.assign({}, c.config, { fragmentOutgoingMessages: true, fragmentationThreshold: n });
      }
      this.send(isText, data);
    },
    ping(p) { c.ping(p); },
    close(code, reason) { c.close(code, reason); },
  };
  const agent = new Agent(conn);
  rep.open = true;
  rep.subprotocol = c.protocol || '';
  rep.version = c.webSocketVersion;
  c.on('message', (m) => agent.message(m.type === 'utf8', m.type === 'utf8' ? m.utf8Data : m.binaryData));
  c.on('pong', (p) => agent.pong(p.toString('utf8')));
  c.on('error', (e) => { rep.error = rep.error || String(e); });
  c.on('close', (code, desc) => {
    rep.close = { code: code, reason: desc || '' };
    finish();
  });
}

const wnConfig = { maxReceivedFrameSize: MAX, maxReceivedMessageSize: MAX, keepalive: false };

function wnServer() {
  const WebSocketServer = require('websocket').server;
  const server = createServer(notFound);
  const wss = new WebSocketServer(Object.assign({ httpServer: server, autoAcceptConnections: false }, wnConfig));
  wss.on('request', (req) => {
    const rep = newReport(queryID(req.resource), 'websocket');
    if (req.resourceURL.pathname === '/reject') {
      req.reject(403, REJECT_REASON);
      return;
    }
    const c = req.accept(pick(req.requestedProtocols), req.origin);
    wnConn(c, rep, once(rep));
  });
  server.listen(0, '127.0.0.1', () => out({ event: 'listening', port: server.address().port }));
}

function wnClient(cmd) {
  const WebSocketClient = require('websocket').client;
  const rep = newReport(cmd.id, 'websocket');
  const finish = once(rep);
  const client = new WebSocketClient(Object.assign({ webSocketVersion: cmd.version || 13 }, wnConfig));
  client.on('httpResponse', (res) => {
    rep.status = res.statusCode;
    rep.statusReason = res.headers['x-websocket-reject-reason'] || res.statusMessage;
    res.resume();
    finish();
  });
  client.on('connectFailed', (e) => { rep.error = String(e); finish(); });
  client.on('connect', (c) => wnConn(c, rep, finish));
  const protocols = cmd.protocols && cmd.protocols.length ? cmd.protocols : null;
  client.connect(cmd.url, protocols);
}

// ---- watershed ----

// watershed reports the close code as the name it knows (1000-1011), else null.
const WATERSHED_CODES = { NORMAL: 1000, GOING_AWAY: 1001, PROTOCOL_ERROR: 1002, UNACCEPTABLE: 1003, MALFORMED: 1007, POLICY_VIOLATION: 1008, TOO_BIG: 1009, MISSING_EXTENSION: 1010, UNEXPECTED_ERROR: 1011 };

function shedConn(ws, version, rep, finish) {
  const lib = 'watershed ' + require('watershed/package.json').version;
  const conn = {
    lib: lib,
    protocol: ws.getProtocol() || '',
    version: version,
    send(isText, data) { ws.send(isText ? data : Buffer.from(data)); },
    // No sendFragments and no ping: watershed has no API for either.
    close(code, reason) {
      if (code !== 1000) return 'watershed end() always sends 1000';
      ws.end(reason);
      return '';
    },
  };
  const agent = new Agent(conn);
  rep.open = true;
  rep.subprotocol = conn.protocol;
  rep.version = version;
  ws.on('text', (s) => agent.message(true, s));
  ws.on('binary', (b) => agent.message(false, b));
  ws.on('pong', (p) => agent.pong(p.toString('utf8')));
  ws.on('error', (e) => { rep.error = rep.error || String(e); });
  ws.on('end', (code, reason) => {
    rep.close = { code: code === null || code === undefined ? 0 : (WATERSHED_CODES[code] || 0), reason: reason || '' };
    finish();
  });
}

function shedServer() {
  const { Watershed } = require('watershed');
  const shed = new Watershed();
  const server = createServer(notFound);
  server.on('upgrade', (req, socket, head) => {
    const rep = newReport(queryID(req.url), 'watershed');
    if (pathOf(req.url) === '/reject') {
      // watershed has no rejection API: the application answers on the raw socket.
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nX-WebSocket-Reject-Reason: ' + REJECT_REASON +
        '\r\nContent-Length: ' + REJECT_REASON.length + '\r\n\r\n' + REJECT_REASON);
      return;
    }
    let ws;
    try {
      ws = shed.accept(req, socket, head, false, SUPPORTED);
    } catch (e) {
      // watershed throws on what it refuses (a version other than 13, say).
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    shedConn(ws, parseInt(req.headers['sec-websocket-version'] || '13', 10), rep, once(rep));
  });
  server.listen(0, '127.0.0.1', () => out({ event: 'listening', port: server.address().port }));
}

function shedClient(cmd) {
  const { Watershed } = require('watershed');
  const shed = new Watershed();
  const rep = newReport(cmd.id, 'watershed');
  const finish = once(rep);
  const u = new URL(cmd.url);
  const key = shed.generateKey();
  const headers = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': String(cmd.version || 13), 'Sec-WebSocket-Key': key };
  if (cmd.protocols && cmd.protocols.length) headers['Sec-WebSocket-Protocol'] = cmd.protocols.join(', ');
  const transport = u.protocol === 'wss:' ? require('https') : http; // wss: tls_matrix_test.go
  const req = transport.request({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, headers: headers });
  req.on('upgrade', (res, socket, head) => {
    let ws;
    try {
      ws = shed.connect(res, socket, head, key);
    } catch (e) {
      rep.error = String(e);
      socket.destroy();
      finish();
      return;
    }
    shedConn(ws, cmd.version || 13, rep, finish);
  });
  req.on('response', (res) => {
    rep.status = res.statusCode;
    rep.statusReason = res.headers['x-websocket-reject-reason'] || res.statusMessage;
    res.resume();
    finish();
  });
  req.on('error', (e) => { rep.error = rep.error || String(e); finish(); });
  req.end();
}

// ---- main ----

const libs = {
  ws: { server: wsServer, client: wsClient },
  websocket: { server: wnServer, client: wnClient },
  watershed: { server: shedServer, client: shedClient },
};

function main() {
  const [mode, name] = process.argv.slice(2);
  const lib = libs[name];
  if (!lib || (mode !== 'server' && mode !== 'client')) {
    process.stderr.write('usage: peer.js server|client ws|websocket|watershed\n');
    process.exit(2);
  }
  process.on('uncaughtException', (e) => {
    process.stderr.write('uncaught: ' + (e && e.stack || e) + '\n');
  });
  if (mode === 'server') {
    lib.server();
    process.stdin.on('end', () => process.exit(0)); // the driver went away
    process.stdin.resume();
    return;
  }
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim() === '') return;
    lib.client(JSON.parse(line));
  });
  rl.on('close', () => process.exit(0));
  out({ event: 'ready' });
}

main();
