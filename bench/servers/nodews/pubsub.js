// Pub/sub benchmark server for Node's ws (npm): a connection's first message is the
// topic it subscribes to (a Map of Sets); publishes come in on a plain TCP ingress,
// u16 topic length | topic | u32 payload length | payload, and each goes to its
// topic's sockets with ws.send, as ws's broadcast example does. Same flags and
// LISTEN line as the Go pub/sub servers (bench/internal/srvkit/pubsub.go).
'use strict';
const http = require('http');
const net = require('net');
const { WebSocketServer } = require('ws');

function flag(name, def) {
  const i = process.argv.indexOf('-' + name);
  if (i < 0) return def;
  return process.argv[i + 1];
}
function hostPort(s) {
  const i = s.lastIndexOf(':');
  return [s.slice(0, i), Number(s.slice(i + 1))];
}
const [host, port] = hostPort(flag('addr', '127.0.0.1:0'));
const [shost, sport] = hostPort(flag('stats', '127.0.0.1:0'));
const [phost, pport] = hostPort(flag('pub', '127.0.0.1:0'));

const topics = new Map();
let nsubs = 0;
const wss = new WebSocketServer({ host, port, perMessageDeflate: false, maxPayload: 1 << 20 });
wss.on('connection', (ws) => {
  let topic = null;
  ws.on('message', (data) => {
    if (topic !== null) return;
    topic = data.toString();
    let s = topics.get(topic);
    if (!s) { s = new Set(); topics.set(topic, s); }
    s.add(ws);
    nsubs++;
  });
  ws.on('close', () => {
    if (topic !== null) { topics.get(topic).delete(ws); nsubs--; }
  });
  ws.on('error', () => {});
});

function publish(topic, p) {
  const s = topics.get(topic);
  if (!s) return 0;
  for (const ws of s) ws.send(p, { binary: true });
  return s.size;
}

const ingress = net.createServer((sock) => {
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    let off = 0;
    for (;;) {
      if (buf.length - off < 2) break;
      const tl = buf.readUInt16BE(off);
      if (buf.length - off < 2 + tl + 4) break;
      const pl = buf.readUInt32BE(off + 2 + tl);
      if (pl > (1 << 20)) { sock.destroy(); return; }
      const end = off + 2 + tl + 4 + pl;
      if (buf.length < end) break;
      const topic = buf.toString('latin1', off + 2, off + 2 + tl);
      // ws.send may queue the buffer: give it its own copy.
      publish(topic, Buffer.from(buf.subarray(off + 2 + tl + 4, end)));
      off = end;
    }
    buf = off === buf.length ? Buffer.alloc(0) : buf.subarray(off);
  });
  sock.on('error', () => {});
});

const stats = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname !== '/stats') { res.writeHead(404); res.end(); return; }
  const m = process.memoryUsage();
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ heap_alloc: m.heapUsed, sys: m.rss, goroutines: 0, conns: nsubs }) + '\n');
});

wss.on('listening', () => {
  ingress.listen(pport, phost, () => {
    stats.listen(sport, shost, () => {
      const a = wss.address(), s = stats.address(), p = ingress.address();
      console.log(`LISTEN ws=${a.address}:${a.port} stats=${s.address}:${s.port} pid=${process.pid} pub=${p.address}:${p.port}`);
    });
  });
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
