'use strict';

// A third-party WebSocket server (ws from npm) for weir's client tests
// (engine/client_test.go). It listens on 127.0.0.1, port 0, prints
// {"port":N} as the first line on stdout, then serves until stdin closes.
//
//   node server.js                      plain HTTP
//   node server.js --tls cert.pem key.pem   HTTPS (wss)
//
// Behaviour by path (query ?id=X tags the events printed for a connection):
//   /echo (any other path)  echoes every message with its type
//   /info                   first sends a JSON text message describing the
//                           handshake it saw, then echoes
//   /forbidden              answers 403 with a body, no upgrade
//   /upgrade-required       answers 426 with a body, no upgrade
//   /hang                   keeps the socket and never answers (prints
//                           {"event":"hang","id":..} when the request is in)
//   /bogus-proto            the server picks a subprotocol the client never offered
//   /close?code=C&reason=R  closes at once with code C and reason R
//   /ping                   pings with "from-ws"; answers each pong with a text
//                           message "pong:<payload>"
// Every close prints {"event":"close","id":..,"code":..,"reason":..} on stdout.

const fs = require('fs');
const http = require('http');
const https = require('https');
const { WebSocketServer } = require('ws');

const args = process.argv.slice(2);
let server;
if (args[0] === '--tls') {
  server = https.createServer({ cert: fs.readFileSync(args[1]), key: fs.readFileSync(args[2]) });
} else {
  server = http.createServer();
}
server.on('request', (req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain' });
  res.end('websocket only\n');
});

// The server's preference order for subprotocols.
const preferred = ['v2.weir', 'v1.weir'];

const wss = new WebSocketServer({
  noServer: true,
  maxPayload: 64 << 20,
  handleProtocols: (protocols, req) => {
    if (new URL(req.url, 'http://x').pathname === '/bogus-proto') return 'never-offered';
    for (const p of preferred) if (protocols.has(p)) return p;
    return false;
  },
});

function refuse(socket, status, reason, body) {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'Content-Type: text/plain\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'X-Test-Server: node-ws\r\n' +
      'Connection: close\r\n\r\n' +
      body
  );
}

const hanging = new Set();

server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://x');
  switch (url.pathname) {
    case '/forbidden':
      refuse(socket, 403, 'Forbidden', 'forbidden by node ws');
      return;
    case '/upgrade-required':
      refuse(socket, 426, 'Upgrade Required', 'upgrade required by node ws');
      return;
    case '/hang':
      console.log(JSON.stringify({ event: 'hang', id: url.searchParams.get('id') || '' }));
      hanging.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => hanging.delete(socket));
      return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});

wss.on('connection', (ws, req) => {
  const url = new URL(req.url, 'http://x');
  const id = url.searchParams.get('id') || '';
  ws.on('error', () => {});
  ws.on('close', (code, reason) => {
    console.log(JSON.stringify({ event: 'close', id, code, reason: reason.toString() }));
  });
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  switch (url.pathname) {
    case '/info':
      ws.send(
        JSON.stringify({
          path: url.pathname,
          version: req.headers['sec-websocket-version'] || '',
          protocol: ws.protocol,
          origin: req.headers['origin'] || req.headers['sec-websocket-origin'] || '',
          headers: req.headers,
          remote: req.socket.remoteAddress,
        })
      );
      break;
    case '/close':
      ws.close(Number(url.searchParams.get('code')), url.searchParams.get('reason') || '');
      break;
    case '/ping':
      ws.on('pong', (data) => ws.send('pong:' + data.toString()));
      ws.ping(Buffer.from('from-ws'));
      break;
  }
});

server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port }));
});

// The Go test owns this process: it ends when the test closes stdin.
process.stdin.on('data', () => {});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
