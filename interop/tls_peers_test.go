package interop

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"slices"
	"time"

	"github.com/gobwas/ws"
	"github.com/gorilla/websocket"
)

// The peers of TestTLSMatrix, both ways over wss: the client peers dial weir's
// ListenTLS trusting the test certificate, and the server peers serve TLS with
// it for weir's client (which trusts it through DialOptions.TLSConfig).

// wssPeers are the peers of the matrix over wss, each trusting c as a client
// and serving c as a server. As clients: Node through NODE_EXTRA_CA_CERTS,
// Python (OpenSSL) through SSL_CERT_FILE, the Go libraries through RootCAs,
// Chromium through a pin of c's key (--ignore-certificate-errors-spki-list:
// certificate errors are ignored for this key only; the page it loads is
// served over https with c too). Chromium has no other way to trust a root
// here: its store is an NSS database and certutil (libnss3-tools) is not
// installed. As servers (for weir's client; Chromium has none): Node's
// https.createServer and Python's ssl.SSLContext with c's files (the peers'
// TLS mode, WEIR_TLS_CERT and WEIR_TLS_KEY), the Go libraries' listeners
// wrapped in crypto/tls.
func wssPeers(c *testCert) []*peerSpec {
	var out []*peerSpec
	tlsEnv := []string{"env", "WEIR_TLS_CERT=" + c.certFile, "WEIR_TLS_KEY=" + c.keyFile}
	for _, p := range peers {
		q := *p
		switch p.name {
		case "ws", "websocket", "watershed":
			lib := p.name
			q.newClient = func() (clientPeer, error) {
				return startProc(".", "env", "NODE_EXTRA_CA_CERTS="+c.certFile, "node", "peers/node/peer.js", "client", lib)
			}
			q.newServer = func() (serverPeer, error) {
				return startProc(".", append(tlsEnv, "node", "peers/node/peer.js", "server", lib)...)
			}
		case "python-websockets":
			q.newClient = func() (clientPeer, error) {
				return startProc(".", "env", "SSL_CERT_FILE="+c.certFile, debianPython, "peers/python/peer.py", "client")
			}
			q.newServer = func() (serverPeer, error) {
				return startProc(".", append(tlsEnv, debianPython, "peers/python/peer.py", "server")...)
			}
		case "gorilla":
			q.newClient = func() (clientPeer, error) { return newGorillaClientTLS(&tls.Config{RootCAs: c.pool}), nil }
			q.newServer = func() (serverPeer, error) { return newGorillaServerTLS(c.serverConfig()) }
		case "gobwas":
			q.newClient = func() (clientPeer, error) { return newGobwasClientTLS(&tls.Config{RootCAs: c.pool}), nil }
			q.newServer = func() (serverPeer, error) { return newGobwasServerTLS(c.serverConfig()) }
		case "chromium":
			q.newClient = func() (clientPeer, error) {
				return startProc(".", "env", "WEIR_PAGE_CERT="+c.certFile, "WEIR_PAGE_KEY="+c.keyFile,
					"WEIR_CHROMIUM_ARGS=--ignore-certificate-errors-spki-list="+c.spki, "node", "peers/chromium/driver.js")
			}
			// no server role (a server role added to peers would dial plain
			// over wss here and fail, not skip)
		default:
			continue // a new peer: give it a way to trust c and to serve c here
		}
		out = append(out, &q)
	}
	return out
}

// listenPeer is a Go peer server's listener on a free loopback port: over TLS
// with cfg when cfg is set.
func listenPeer(cfg *tls.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil || cfg == nil {
		return ln, err
	}
	return tls.NewListener(ln, cfg), nil
}

// newGorillaClientTLS is the gorilla client peer, dialling wss with cfg (nil:
// plain ws, newGorillaClient).
func newGorillaClientTLS(cfg *tls.Config) clientPeer {
	return &goClient{conn: func(cmd dialCmd) report {
		rep := newReport(cmd.ID, gorillaLib)
		if cmd.Version != 0 && cmd.Version != 13 {
			rep.Error = "gorilla/websocket dials only version 13"
			return rep
		}
		d := websocket.Dialer{Subprotocols: slices.Clone(cmd.Protocols), HandshakeTimeout: 10 * time.Second, TLSClientConfig: cfg}
		c, resp, err := d.Dial(cmd.URL, nil)
		if err != nil {
			rep.Error = err.Error()
			if resp != nil {
				rep.Status, rep.StatusReason = resp.StatusCode, resp.Header.Get("X-WebSocket-Reject-Reason")
			}
			return rep
		}
		runGorilla(c, &rep)
		return rep
	}}
}

// newGobwasClientTLS is the gobwas client peer, dialling wss with cfg (nil:
// plain ws, newGobwasClient).
func newGobwasClientTLS(cfg *tls.Config) clientPeer {
	return &goClient{conn: func(cmd dialCmd) report {
		rep := newReport(cmd.ID, gobwasLib)
		if cmd.Version != 0 && cmd.Version != 13 {
			rep.Error = "gobwas/ws dials only version 13"
			return rep
		}
		d := ws.Dialer{Protocols: slices.Clone(cmd.Protocols), Timeout: 10 * time.Second, TLSConfig: cfg,
			OnStatusError: func(status int, reason []byte, resp io.Reader) {
				rep.Status, rep.StatusReason = status, string(reason)
			}}
		nc, br, hs, err := d.Dial(context.Background(), cmd.URL)
		if err != nil {
			var se ws.StatusError
			if errors.As(err, &se) {
				rep.Status = int(se)
			}
			rep.Error = err.Error()
			return rep
		}
		if br != nil {
			// Frames that came with the 101 wait in br: read them first.
			nc = bufConn{nc, io.MultiReader(br, nc)}
		}
		runGobwas(nc, ws.StateClientSide, hs.Protocol, &rep)
		return rep
	}}
}
