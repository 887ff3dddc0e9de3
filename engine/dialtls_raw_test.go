package engine

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/tlshand"
	"github.com/weir-ws/weir/internal/tlsrec"
	"github.com/weir-ws/weir/upgrade"
)

// recServer is a one-connection wss server made of the record layer over a
// raw socket, so a test picks every record the client gets: a frame in the
// same record as the 101, a KeyUpdate, a corrupted record.
type recServer struct {
	t     testing.TB
	nc    net.Conn
	r     *tlsrec.Reader
	w     *tlsrec.Writer
	in    []byte // ciphertext not yet opened
	plain []byte // plaintext not yet taken
	upd   int    // KeyUpdates the client asked for
}

// startRecServer accepts one TLS connection, runs the handshake (our record
// layer after it), reads the upgrade request and hands the server to serve.
func startRecServer(t *testing.T, serve func(s *recServer, accept string)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := tlshand.Prepare(&tls.Config{Certificates: []tls.Certificate{cliTestCert(t).cert}}, tlshand.Options{})
	done := make(chan struct{})
	t.Cleanup(func() { <-done })
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(20 * time.Second))
		res, err := p.Server(context.Background(), nc)
		if err != nil || res.Reader == nil {
			t.Errorf("server handshake: %v", err)
			return
		}
		s := &recServer{t: t, nc: nc, r: res.Reader, w: res.Writer, in: res.Leftover}
		for !bytes.Contains(s.plain, []byte("\r\n\r\n")) {
			if err := s.fill(); err != nil {
				t.Errorf("request: %v", err)
				return
			}
		}
		_, after, _ := strings.Cut(string(s.plain), "Sec-WebSocket-Key: ")
		key, _, _ := strings.Cut(after, "\r\n")
		s.plain = nil
		serve(s, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+
			upgrade.AcceptKey(key)+"\r\n\r\n")
	}()
	return ln.Addr().String()
}

// fill opens what is whole (answering KeyUpdates), reading once first when
// that gives nothing.
func (s *recServer) fill() error {
	var buf [32 << 10]byte
	for read := false; ; read = true {
		var n int
		var err error
		if read {
			n, err = s.nc.Read(buf[:])
			s.in = append(s.in, buf[:n]...)
		}
		res, derr := s.r.Decrypt(s.in)
		s.plain = append(s.plain, s.in[:res.Plain]...)
		s.in = append(s.in[:0], s.in[res.Plain:res.Plain+res.Rest]...)
		if res.UpdateRequested {
			s.upd++
			s.send(must(s.w.AppendKeyUpdate(nil, false)))
		}
		switch {
		case derr != nil:
			return derr
		case res.Plain > 0:
			return nil
		case read && n == 0 && err == io.EOF:
			return io.ErrUnexpectedEOF // a FIN with no close_notify: told apart from one
		case read && n == 0:
			return err
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func (s *recServer) seal(p []byte) []byte { return must(s.w.AppendSeal(nil, p)) }

func (s *recServer) send(b []byte) {
	if _, err := s.nc.Write(b); err != nil {
		s.t.Errorf("server write: %v", err)
	}
}

// readMessage reads one small masked frame from the client and returns its
// payload.
func (s *recServer) readMessage() ([]byte, error) {
	for {
		if len(s.plain) >= 6 {
			n := int(s.plain[1] & 0x7f)
			if n < 126 && len(s.plain) >= 6+n {
				mask, p := s.plain[2:6], bytes.Clone(s.plain[6:6+n])
				for i := range p {
					p[i] ^= mask[i%4]
				}
				s.plain = s.plain[6+n:]
				return p, nil
			}
		}
		if err := s.fill(); err != nil {
			return nil, err
		}
	}
}

// TestDialTLSFirstMessage: a message the server sends right after its 101 is
// not lost at the hand-off, whether it shares the 101's record (crypto/tls
// decrypted it: it comes back from the tls.Conn), follows in records read
// ahead, or comes later; and a large one cut across many records.
func TestDialTLSFirstMessage(t *testing.T) {
	t.Parallel()
	big := cliPayload(frame.OpBinary, 200000)
	tests := []struct {
		name string
		msgs [][]byte
		send func(s *recServer, resp string, frames []byte)
	}{
		{"same record", [][]byte{[]byte("first"), []byte("second")}, func(s *recServer, resp string, frames []byte) {
			s.send(s.seal(append([]byte(resp), frames...)))
		}},
		{"same record, past the dialer's read", [][]byte{cliPayload(frame.OpBinary, 10000)}, func(s *recServer, resp string, frames []byte) {
			// The dialer reads 4 KiB: crypto/tls keeps the rest of this
			// record decrypted, and the hand-off must take it from there.
			s.send(s.seal(append([]byte(resp), frames...)))
		}},
		{"same write, own records", [][]byte{[]byte("first")}, func(s *recServer, resp string, frames []byte) {
			s.send(append(s.seal([]byte(resp)), s.seal(frames)...))
		}},
		{"record cut", [][]byte{[]byte("first")}, func(s *recServer, resp string, frames []byte) {
			s.send(s.seal(append([]byte(resp), frames[:2]...)))
			time.Sleep(50 * time.Millisecond) // after the hand-off, most likely; either way must work
			s.send(s.seal(frames[2:]))
		}},
		{"large, same write", [][]byte{big}, func(s *recServer, resp string, frames []byte) {
			out := s.seal([]byte(resp))
			for len(frames) > 0 {
				k := min(len(frames), tlsrec.MaxPlaintext)
				out = append(out, s.seal(frames[:k])...)
				frames = frames[k:]
			}
			s.send(out)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			served := make(chan struct{})
			addr := startRecServer(t, func(s *recServer, resp string) {
				defer close(served)
				var frames []byte
				for _, m := range tc.msgs {
					frames = append(frames, frameBytes(true, frame.OpBinary, 0, m, false)...)
				}
				tc.send(s, resp, frames)
				got, err := s.readMessage()
				if err != nil || string(got) != "thanks" {
					t.Errorf("server read %q %v", got, err)
				}
			})
			c := cliDial(t, cliClient(t, nil, Config{}), "wss://"+addr+"/", &DialOptions{TLSConfig: clientTLS(t)})
			if !onLoops(c) {
				t.Fatal("client not on the loops")
			}
			for i, m := range tc.msgs {
				_, got, err := c.ReadMessage(cliCtx(t))
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				mustEqual(t, got, m)
			}
			if err := c.WriteText("thanks"); err != nil {
				t.Fatal(err)
			}
			<-served
		})
	}
}

// TestDialTLSKeyUpdate: the server asks for KeyUpdates on a client on the
// loops; the client answers (RFC 8446 §4.6.3), reads under the new key, and
// the server reads the client's next records under the client's new key.
func TestDialTLSKeyUpdate(t *testing.T) {
	t.Parallel()
	served := make(chan int, 1)
	addr := startRecServer(t, func(s *recServer, resp string) {
		s.send(s.seal([]byte(resp)))
		for i := range 3 {
			ku := must(s.w.AppendKeyUpdate(nil, true))
			s.send(append(ku, s.seal(frameBytes(true, frame.OpText, 0, []byte{'k', byte('0' + i)}, false))...))
			got, err := s.readMessage()
			if err != nil || string(got) != string([]byte{'k', byte('0' + i)}) {
				t.Errorf("server read %q %v", got, err)
			}
		}
		served <- s.upd
	})
	cl := cliClient(t, newCliPeer(true), Config{})
	c := cliDial(t, cl, "wss://"+addr+"/", &DialOptions{TLSConfig: clientTLS(t)})
	if !onLoops(c) {
		t.Fatal("client not on the loops")
	}
	if n := cliRecv(t, served, "server done"); n != 0 {
		t.Fatalf("client asked for %d KeyUpdates", n)
	}
}

// TestDialTLSBadRecord: a record that fails authentication ends a client on
// the loops with bad_record_mac sent (RFC 8446 §6.2) and a *TLSError; a
// close_notify is the server's EOF.
func TestDialTLSBadRecord(t *testing.T) {
	t.Parallel()
	for _, bad := range []bool{true, false} {
		name := "close_notify"
		if bad {
			name = "bad tag"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			alert := make(chan error, 1)
			addr := startRecServer(t, func(s *recServer, resp string) {
				s.send(s.seal([]byte(resp)))
				if !bad {
					s.send(must(s.w.AppendCloseNotify(nil)))
					for {
						if err := s.fill(); err != nil {
							alert <- err
							return
						}
					}
				}
				rec := s.seal(frameBytes(true, frame.OpText, 0, []byte("x"), false))
				rec[len(rec)-1] ^= 1
				s.send(rec)
				for {
					if err := s.fill(); err != nil {
						alert <- err
						return
					}
				}
			})
			peer := newCliPeer(false)
			cl := cliClient(t, peer, Config{})
			c := cliDial(t, cl, "wss://"+addr+"/", &DialOptions{TLSConfig: clientTLS(t)})
			if !onLoops(c) {
				t.Fatal("client not on the loops")
			}
			rec := cliRecv(t, peer.closed, "OnClose")
			err := cliRecv(t, alert, "server's end")
			var te *TLSError
			var ae *tlsrec.AlertError
			if bad {
				if !errors.As(rec.err, &te) || !errors.As(err, &ae) || ae.Code != tlsrec.AlertBadRecordMAC || !ae.Remote {
					t.Fatalf("client closed with %v; server got %v", rec.err, err)
				}
				if m := cl.TLSMetrics(); m.RecordErrors != 1 {
					t.Fatalf("metrics %+v", m)
				}
				return
			}
			// The client answers close_notify with its own, then closes.
			if errors.As(rec.err, &te) || rec.code != frame.StatusAbnormalClosure || err != io.EOF {
				t.Fatalf("client closed with %d %v; server got %v", rec.code, rec.err, err)
			}
		})
	}
}

// TestDialTLSCloseNotify: a client on the loops that closes sends its close
// frame, reads the server's, and ends the TLS stream with close_notify
// (RFC 8446 §6.1) before its FIN.
func TestDialTLSCloseNotify(t *testing.T) {
	t.Parallel()
	end := make(chan error, 1)
	addr := startRecServer(t, func(s *recServer, resp string) {
		s.send(s.seal([]byte(resp)))
		for len(s.plain) < 2 || len(s.plain) < 6+int(s.plain[1]&0x7f) {
			if err := s.fill(); err != nil {
				end <- err
				return
			}
		}
		if s.plain[0] != 0x88 {
			t.Errorf("client sent %x, not a close frame", s.plain[0])
		}
		s.plain = nil
		s.send(s.seal(frameBytes(true, frame.OpClose, 0, []byte{3, 232}, false)))
		for {
			if err := s.fill(); err != nil {
				end <- err
				return
			}
		}
	})
	peer := newCliPeer(false)
	// The server keeps its TCP side open (to read what comes last): the
	// client waits CloseTimeout for it (RFC 6455 §7.1.1), then closes.
	cl := cliClient(t, peer, Config{CloseTimeout: 100 * time.Millisecond})
	c := cliDial(t, cl, "wss://"+addr+"/", &DialOptions{TLSConfig: clientTLS(t)})
	if !onLoops(c) {
		t.Fatal("client not on the loops")
	}
	c.Close(frame.StatusNormalClosure, "")
	if rec := cliRecv(t, peer.closed, "OnClose"); rec.code != frame.StatusNormalClosure {
		t.Fatalf("client closed with %d %v", rec.code, rec.err)
	}
	if err := cliRecv(t, end, "server's end"); err != io.EOF {
		t.Fatalf("server's stream ended with %v, want close_notify (io.EOF)", err)
	}
}
