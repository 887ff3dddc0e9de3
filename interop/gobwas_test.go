package interop

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/url"
	"slices"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// gobwas/ws as a peer, in process: its frame-level API, so fragments are exactly
// the size asked for.

var gobwasLib = "gobwas/ws " + mustVersion(goModule("github.com/gobwas/ws"))

// runGobwas runs the agent on nc (upgraded; state says which side) until the
// connection ends and fills rep.
func runGobwas(nc net.Conn, state ws.State, protocol string, rep *report) {
	defer nc.Close()
	rep.Open, rep.Subprotocol, rep.Version = true, protocol, 13
	client := state.ClientSide()
	write := func(fin bool, op ws.OpCode, p []byte) error {
		f := ws.NewFrame(op, fin, p)
		if client {
			f.Payload = slices.Clone(p) // MaskFrameInPlace masks the payload it is given
			f = ws.MaskFrameInPlace(f)
		}
		return ws.WriteFrame(nc, f)
	}
	sentClose := false
	a := &goAgent{
		lib: gobwasLib, subprotocol: protocol,
		send: func(text bool, p []byte) error { return write(true, gobwasOp(text), p) },
		sendFragments: func(text bool, p []byte, n int) error {
			op := gobwasOp(text)
			for first := true; ; first = false {
				k := min(n, len(p))
				if !first {
					op = ws.OpContinuation
				}
				if err := write(k == len(p), op, p[:k]); err != nil {
					return err
				}
				p = p[k:]
				if len(p) == 0 {
					return nil
				}
			}
		},
		ping: func(p []byte) error { return write(true, ws.OpPing, p) },
		closeWith: func(code int, reason string) error {
			sentClose = true
			return write(true, ws.OpClose, ws.NewCloseFrameBody(ws.StatusCode(code), reason))
		},
	}
	ctrl := wsutil.ControlFrameHandler(nc, state)
	// onControl: pongs go to the agent; a close frame is answered with its code
	// (as wsutil's handler does) unless we closed first; the rest is wsutil's.
	onControl := func(h ws.Header, r io.Reader) error {
		switch h.OpCode {
		case ws.OpPong:
			p, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			return a.pong(p)
		case ws.OpClose:
			if !sentClose {
				return ctrl(h, r)
			}
			p, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			code, reason := ws.ParseCloseFrameData(p)
			return wsutil.ClosedError{Code: code, Reason: reason}
		}
		return ctrl(h, r)
	}
	rd := &wsutil.Reader{Source: nc, State: state, CheckUTF8: true, OnIntermediate: onControl}
	end := func(err error) {
		var ce wsutil.ClosedError
		if errors.As(err, &ce) {
			code := int(ce.Code)
			if ce.Code == ws.StatusNoStatusRcvd {
				code = 1005
			}
			rep.Close = &closeInfo{Code: code, Reason: ce.Reason}
			return
		}
		rep.Error = err.Error()
	}
	for {
		h, err := rd.NextFrame()
		if err != nil {
			end(err)
			return
		}
		if h.OpCode.IsControl() {
			if err := onControl(h, rd); err != nil {
				end(err)
				return
			}
			continue
		}
		p, err := io.ReadAll(rd)
		if err != nil {
			end(err)
			return
		}
		if err := a.message(h.OpCode == ws.OpText, p); err != nil {
			rep.Error = err.Error()
			return
		}
	}
}

func gobwasOp(text bool) ws.OpCode {
	if text {
		return ws.OpText
	}
	return ws.OpBinary
}

type gobwasServer struct {
	ln  net.Listener
	box mailbox
}

func newGobwasServer() (serverPeer, error) { return newGobwasServerTLS(nil) }

// newGobwasServerTLS serves over TLS with cfg when cfg is set (wss://, for
// TestTLSMatrix's weir-client columns), plain when it is nil.
func newGobwasServerTLS(cfg *tls.Config) (serverPeer, error) {
	ln, err := listenPeer(cfg)
	if err != nil {
		return nil, err
	}
	g := &gobwasServer{ln: ln}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go g.serve(nc)
		}
	}()
	return g, nil
}

func (g *gobwasServer) serve(nc net.Conn) {
	var id string
	u := ws.Upgrader{
		OnRequest: func(uri []byte) error {
			ru, err := url.ParseRequestURI(string(uri))
			if err != nil {
				return err
			}
			id = ru.Query().Get("id")
			if ru.Path == "/reject" {
				return ws.RejectConnectionError(ws.RejectionStatus(403), ws.RejectionReason(peerRejectReason),
					ws.RejectionHeader(ws.HandshakeHeaderString("X-WebSocket-Reject-Reason: "+peerRejectReason+"\r\n")))
			}
			return nil
		},
		Protocol: func(p []byte) bool { return slices.Contains(supported, string(p)) },
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	hs, err := u.Upgrade(nc)
	if err != nil {
		nc.Close() // gobwas answered the refusal itself
		return
	}
	nc.SetDeadline(time.Time{})
	rep := newReport(id, gobwasLib)
	runGobwas(nc, ws.StateServerSide, hs.Protocol, &rep)
	g.box.put(rep)
}

func (g *gobwasServer) url(path, id string) string {
	return peerURL(g.ln.Addr().(*net.TCPAddr).Port, path, id)
}
func (g *gobwasServer) report(id string) <-chan report { return g.box.box(id) }
func (g *gobwasServer) close()                         { g.ln.Close() }

func newGobwasClient() (clientPeer, error) { return newGobwasClientTLS(nil), nil }

// bufConn reads from r (buffered bytes, then the connection).
type bufConn struct {
	net.Conn
	r io.Reader
}

func (b bufConn) Read(p []byte) (int, error) { return b.r.Read(p) }
