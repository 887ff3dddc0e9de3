package interop

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// gorilla/websocket as a peer, in process.

var gorillaLib = "gorilla/websocket " + mustVersion(goModule("github.com/gorilla/websocket"))

func mustVersion(probe func() (string, error)) string {
	v, _ := probe()
	return v
}

// runGorilla runs the agent on c until the connection ends and fills rep.
func runGorilla(c *websocket.Conn, rep *report) {
	defer c.Close()
	rep.Open, rep.Subprotocol, rep.Version = true, c.Subprotocol(), 13
	a := &goAgent{
		lib: gorillaLib, subprotocol: c.Subprotocol(),
		send: func(text bool, p []byte) error {
			return c.WriteMessage(gorillaType(text), p)
		},
		// gorilla has no frame API: a message written through NextWriter goes out
		// as one frame per filled write buffer (4 KiB by default), whatever n is.
		sendFragments: func(text bool, p []byte, n int) error {
			w, err := c.NextWriter(gorillaType(text))
			if err != nil {
				return err
			}
			for len(p) > 0 {
				k := min(n, len(p))
				if _, err := w.Write(p[:k]); err != nil {
					return err
				}
				p = p[k:]
			}
			return w.Close()
		},
		ping: func(p []byte) error {
			return c.WriteControl(websocket.PingMessage, p, time.Now().Add(5*time.Second))
		},
		closeWith: func(code int, reason string) error {
			return c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(5*time.Second))
		},
	}
	c.SetPongHandler(func(s string) error { return a.pong([]byte(s)) })
	// gorilla's default close handler answers a close frame with its code (and
	// nothing once ours went out: WriteControl then fails with ErrCloseSent).
	for {
		mt, p, err := c.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				rep.Close = &closeInfo{Code: ce.Code, Reason: ce.Text}
			} else {
				rep.Error = err.Error()
			}
			return
		}
		if err := a.message(mt == websocket.TextMessage, p); err != nil {
			rep.Error = err.Error()
			return
		}
	}
}

func gorillaType(text bool) int {
	if text {
		return websocket.TextMessage
	}
	return websocket.BinaryMessage
}

type gorillaServer struct {
	ln  net.Listener
	srv *http.Server
	box mailbox
}

func newGorillaServer() (serverPeer, error) { return newGorillaServerTLS(nil) }

// newGorillaServerTLS serves over TLS with cfg when cfg is set (wss://, for
// TestTLSMatrix's weir-client columns), plain when it is nil.
func newGorillaServerTLS(cfg *tls.Config) (serverPeer, error) {
	ln, err := listenPeer(cfg)
	if err != nil {
		return nil, err
	}
	g := &gorillaServer{ln: ln}
	up := websocket.Upgrader{Subprotocols: supported, CheckOrigin: func(*http.Request) bool { return true }}
	g.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/reject" {
			w.Header().Set("X-WebSocket-Reject-Reason", peerRejectReason)
			http.Error(w, peerRejectReason, http.StatusForbidden)
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return // gorilla answered the refusal itself
		}
		rep := newReport(r.URL.Query().Get("id"), gorillaLib)
		runGorilla(c, &rep)
		g.box.put(rep)
	})}
	go g.srv.Serve(ln)
	return g, nil
}

func (g *gorillaServer) url(path, id string) string {
	return peerURL(g.ln.Addr().(*net.TCPAddr).Port, path, id)
}
func (g *gorillaServer) report(id string) <-chan report { return g.box.box(id) }
func (g *gorillaServer) close()                         { g.srv.Close() }

func newGorillaClient() (clientPeer, error) { return newGorillaClientTLS(nil), nil }
