// Benchmark server for Node's ws (npm): echo every message, broadcast on the stats
// trigger, stats with process.memoryUsage(). Same flags and LISTEN line as the Go
// servers in bench/servers (see bench/internal/srvkit).
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

function flag(name, def) {
  const i = process.argv.indexOf('-' + name);
  if (i < 0) return def;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('-') ? true : v;
}
function hostPort(s) {
  const i = s.lastIndexOf(':');
  return [s.slice(0, i), Number(s.slice(i + 1))];
}

const [host, port] = hostPort(flag('addr', '127.0.0.1:0'));
const [shost, sport] = hostPort(flag('stats', '127.0.0.1:0'));
const deflate = flag('deflate', false) === true || flag('deflate', false) === 'true';

const wss = new WebSocketServer({ host, port, perMessageDeflate: deflate, maxPayload: 16 << 20 });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});

const stats = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  let body;
  if (u.pathname === '/stats') {
    if (global.gc) global.gc();
    const m = process.memoryUsage();
    body = { heap_alloc: m.heapUsed, heap_inuse: m.heapTotal, sys: m.rss, external: m.external,
      goroutines: 0, conns: wss.clients.size };
  } else if (u.pathname === '/broadcast') {
    const size = Number(u.searchParams.get('size')) || 128;
    const p = Buffer.alloc(size, 'b');
    const t0 = process.hrtime.bigint();
    let n = 0;
    for (const c of wss.clients) { c.send(p, { binary: true }); n++; }
    body = { sent: n, loop_ns: Number(process.hrtime.bigint() - t0) };
  } else {
    res.writeHead(404); res.end(); return;
  }
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(body) + '\n');
});

wss.on('listening', () => {
  stats.listen(sport, shost, () => {
    const a = wss.address(), s = stats.address();
    console.log(`LISTEN ws=${a.address}:${a.port} stats=${s.address}:${s.port} pid=${process.pid}`);
  });
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
