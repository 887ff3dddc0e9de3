package engine

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/tlsrec"
)

// TestTLSLoopPartialRecordBudget: a wss peer that sends most of a record of
// the largest size and never the rest makes the server keep it (the record
// is authenticated only whole) in a pooled buffer of 32 KiB. Those buffers
// are inbound bytes held between reads like a ws:// partial frame, so
// MaxTotalInbound bounds them: the connection whose partial record would
// pass it is failed with 1013 (ErrInboundBudget), the count is
// BufferedInbound, and it is back to zero when every connection has ended.
func TestTLSLoopPartialRecordBudget(t *testing.T) {
	t.Parallel()
	const conns, budget = 6, 64 << 10
	h := newModeHandler()
	s, addr := startTLS(t, h, Config{MaxTotalInbound: budget})
	partial := append([]byte{23, 3, 3, byte(tlsrec.MaxCiphertext >> 8), byte(tlsrec.MaxCiphertext & 0xff)},
		make([]byte, tlsrec.MaxCiphertext-100)...)
	var cs []*rawTLS
	refused := 0
	for range conns {
		c := dialRecords(t, addr)
		c.upgrade(addr)
		if !<-h.mode {
			t.Fatal("not on the loops")
		}
		cs = append(cs, c)
		c.write(partial)
	}
	// Each kept record holds at least its 16 KiB: at least conns -
	// budget/16 KiB connections cannot keep theirs.
	want := conns - budget/(tlsrec.MaxCiphertext-100)
	for _, c := range cs {
		if refused >= want {
			break
		}
		c.nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		p, err := c.read() // the close frame, with the close_notify after it (io.EOF)
		if len(p) == 0 && isTimeout(err) {
			continue // a connection within the budget: nothing comes
		}
		if len(p) < 4 || p[0] != 0x88 || frame.StatusCode(int(p[2])<<8|int(p[3])) != frame.StatusTryAgainLater {
			t.Fatalf("got %x, want a close frame with 1013", p)
		}
		refused++
		c.nc.Write(make([]byte, 200)) // the rest of the record it lost: read and dropped, not a record error
		c.nc.Close()                  // OnClose now, not after CloseTimeout
	}
	if refused < want {
		t.Fatalf("%d connections refused, want at least %d (inbound held %d, budget %d)",
			refused, want, s.BufferedInbound(), budget)
	}
	if n := s.BufferedInbound(); n <= 0 || n > budget {
		t.Errorf("inbound held %d with partial records kept, want in (0, %d]", n, budget)
	}
	for range refused {
		if r := h.waitClose(t); !errors.Is(r.err, ErrInboundBudget) || r.code != frame.StatusTryAgainLater {
			t.Fatalf("OnClose %d %v, want 1013 ErrInboundBudget", r.code, r.err)
		}
	}
	for _, c := range cs {
		c.nc.Close()
	}
	for range conns - refused {
		h.waitClose(t)
	}
	if n := s.BufferedInbound(); n != 0 {
		t.Errorf("inbound held %d after every connection ended, want 0", n)
	}
	if m := s.TLSMetrics(); m.RecordErrors != 0 {
		t.Errorf("TLS metrics %+v: record errors", m)
	}
}

// TestTLSLoopPartialRecordBudgetOpening: a partial record refused while the
// opening handshake is still read (the request cut across two reads, the
// budget full) ends the connection as a failed opening does: no 101 and no
// WebSocket close frame, only the close_notify.
func TestTLSLoopPartialRecordBudgetOpening(t *testing.T) {
	t.Parallel()
	const budget = 64 << 10
	h := newModeHandler()
	s, addr := startTLS(t, h, Config{MaxTotalInbound: budget})
	partial := append([]byte{23, 3, 3, byte(tlsrec.MaxCiphertext >> 8), byte(tlsrec.MaxCiphertext & 0xff)},
		make([]byte, tlsrec.MaxCiphertext-100)...)
	for range 2 { // 32 KiB each: the budget is full
		c := dialRecords(t, addr)
		c.upgrade(addr)
		<-h.mode
		c.write(partial)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.BufferedInbound() < budget && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	c := dialRecords(t, addr)
	req := c.seal([]byte("GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	c.write(req[:20])
	time.Sleep(100 * time.Millisecond) // the server reads the record's start alone
	c.write(req[20:])
	var got []byte
	for {
		p, err := c.read()
		got = append(got, p...)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("read %v", err)
			}
			break
		}
	}
	if len(got) != 0 {
		t.Fatalf("got %q before the end, want nothing", got)
	}
	if m := s.TLSMetrics(); m.RecordErrors != 0 {
		t.Errorf("TLS metrics %+v: record errors", m)
	}
}
