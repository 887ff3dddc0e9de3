// A SOCKS5 proxy from npm (simple-socks) for weir's client tests. Arguments: an
// optional user name and password it then requires. It prints "LISTEN <port>",
// then a JSON line per CONNECT it serves or authentication it refuses, and exits
// when its stdin closes.
import socks5 from 'simple-socks';

const [user, pass] = process.argv.slice(2);
const options = {};
if (user) {
  options.authenticate = (u, p, socket, callback) => {
    setImmediate(callback, u === user && p === pass ? undefined : new Error('bad credentials'));
  };
}
const server = socks5.createServer(options);
const note = (o) => process.stdout.write(JSON.stringify(o) + '\n');
server.on('proxyConnect', (info) => note({ ev: 'connect', address: info.address, port: info.port }));
server.on('authenticateError', (u) => note({ ev: 'authError', user: u }));
server.listen(0, '127.0.0.1', () => process.stdout.write('LISTEN ' + server.address().port + '\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
