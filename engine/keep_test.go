package engine

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/upgrade"
)

// keptFacts is what the verify hook keeps of one handshake.
type keptFacts struct{ query, header, path, cookie string }

type keepHandler struct {
	NopHandler
	mu   sync.Mutex
	kept []keptFacts
	all  chan struct{}
	n    int
}

func (h *keepHandler) OnOpen(c *Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.kept = append(h.kept, c.UserData().(keptFacts))
	if len(h.kept) == h.n {
		close(h.all)
	}
}

// Strings the verify hook takes from the request stay the client's own after
// other handshakes reuse the worker's buffer: checked once every handshake is
// done (upgrade.Request.own).
func TestVerifyKeptStringsConcurrent(t *testing.T) {
	forModes(t, func(t *testing.T, cfg Config) {
		const n = 100
		h := &keepHandler{all: make(chan struct{}), n: n}
		u := &upgrade.Upgrader{Verify: func(r *upgrade.Request, d *upgrade.Decision) {
			var k keptFacts
			k.query, _ = r.Query("user")
			k.header = r.Header("X-User")
			k.path = r.Path()
			k.cookie, _ = r.Cookie("sid")
			d.SetUserValue(k)
		}}
		_, addr := startServer(t, h, cfg, u)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		conns := make(chan net.Conn, n)
		for i := range n {
			wg.Go(func() {
				id := fmt.Sprintf("user%04d", i)
				nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
				if err != nil {
					errs <- err
					return
				}
				conns <- nc
				nc.SetDeadline(time.Now().Add(30 * time.Second))
				req := "GET /p/" + id + "?user=" + id + " HTTP/1.1\r\nHost: " + addr +
					"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + testKey +
					"\r\nSec-WebSocket-Version: 13\r\nX-User: " + id + "\r\nCookie: a=b; sid=" + id + "\r\n\r\n"
				if _, err := io.WriteString(nc, req); err != nil {
					errs <- err
					return
				}
				resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
				if err == nil && resp.StatusCode != http.StatusSwitchingProtocols {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(conns)
		for nc := range conns {
			defer nc.Close()
		}
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		select {
		case <-h.all:
		case <-time.After(20 * time.Second):
			t.Fatal("not every connection opened")
		}
		seen := map[string]bool{}
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, k := range h.kept {
			if k.header != k.query || k.path != "/p/"+k.query || k.cookie != k.query || seen[k.query] {
				t.Errorf("kept facts changed under the hook: %+v", k)
			}
			seen[k.query] = true
		}
	})
}
