package loadgen

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// rawLoop is one raw TCP baseline connection. Until "go" it reads, counting a
// broadcast in broadcast mode; "go" wakes that read with a past deadline, and the
// echo loop writes the message and reads the same number of bytes back until the
// mode changes.
func (g *gen) rawLoop(nc net.Conn) {
	buf := make([]byte, max(len(g.msg), 4096))
	var seen atomic.Int64
	for {
		n, err := nc.Read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			nc.SetReadDeadline(time.Time{})
			break
		}
		if err != nil {
			return
		}
		if n > 0 && g.mode.Load() == modeBcast {
			g.gotBcast(&seen)
		}
	}
	for g.mode.Load() == modeEcho {
		t0 := time.Now()
		if _, err := nc.Write(g.msg); err != nil {
			g.errs.Add(1)
			return
		}
		if _, err := io.ReadFull(nc, buf[:len(g.msg)]); err != nil {
			g.errs.Add(1)
			return
		}
		g.h.add(time.Since(t0).Nanoseconds())
		g.msgs.Add(1)
	}
}
