package redial

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// A server that accepts every handshake and closes at once never lets a
// connection last MinUptime: each such connection counts as a failed dial
// (MinUptime), so MaxElapsed, "no dial has succeeded for this long", runs
// out on them too. It used to restart at every loss, and Run redialled such
// a server forever whatever MaxElapsed said. The error wraps how the last
// connection ended.
func TestRunGivesUpOnEarlyLosses(t *testing.T) {
	t.Parallel()
	srv := &refuser{}
	url := startServer(t, srv, nil)
	ctx, cancel := testCtx(t)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, newClient(t), url, engine.NopHandler{}, &Options{
			MinDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, Jitter: -1,
			MinUptime: time.Hour, MaxElapsed: 300 * time.Millisecond,
		})
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		cancel()
		err = <-done
	}
	var ce *engine.CloseError
	if !errors.Is(err, ErrGaveUp) || !errors.As(err, &ce) || ce.Code != frame.StatusTryAgainLater {
		t.Fatalf("Run = %v after %d connections, want ErrGaveUp wrapping the 1013 close", err, srv.opens.Load())
	}
}

// refuser closes every connection as it opens, with 1013, and counts them.
type refuser struct {
	engine.NopHandler
	opens atomic.Int32
}

func (r *refuser) OnOpen(c *engine.Conn) {
	r.opens.Add(1)
	c.Close(frame.StatusTryAgainLater, "busy")
}

// A 503 or 429 with Retry-After (RFC 9110 §10.2.3, RFC 6585 §4) is waited
// for, capped at MaxDelay (a server may not park the client beyond what the
// caller accepts): a fleet that backs off from MinDelay would otherwise come
// back to an overloaded server many times before the moment it named. A
// Retry-After on another status, or one that does not parse, changes nothing.
func TestRunRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status, after string
		max           time.Duration
		want          time.Duration // the first wait, Jitter off
	}{
		{"503 Service Unavailable", "7", time.Minute, 7 * time.Second},
		{"429 Too Many Requests", "3", time.Minute, 3 * time.Second},
		{"503 Service Unavailable", "120", 10 * time.Second, 10 * time.Second},
		{"503 Service Unavailable", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), 10 * time.Second, 10 * time.Second},
		{"503 Service Unavailable", "99999999999999999999", 10 * time.Second, 10 * time.Second},
		{"503 Service Unavailable", "soon", time.Minute, time.Millisecond},
		{"503 Service Unavailable", "-5", time.Minute, time.Millisecond},
		{"500 Internal Server Error", "7", time.Minute, time.Millisecond},
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer nc.Close()
					if _, err := http.ReadRequest(bufio.NewReader(nc)); err != nil {
						return
					}
					io.WriteString(nc, "HTTP/1.1 "+tt.status+"\r\nRetry-After: "+tt.after+"\r\nContent-Length: 0\r\n\r\n")
				}()
			}
		}()
		ctx, cancel := testCtx(t)
		waits := make(chan time.Duration, 1)
		err = Run(ctx, newClient(t), "ws://"+ln.Addr().String()+"/", nil, &Options{
			MinDelay: time.Millisecond, MaxDelay: tt.max, Jitter: -1,
			OnRetry: func(_ error, wait time.Duration) {
				select {
				case waits <- wait:
				default:
				}
				cancel()
			},
		})
		ln.Close()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s, Retry-After %s: Run = %v", tt.status, tt.after, err)
		}
		if got := <-waits; got != tt.want {
			t.Errorf("%s, Retry-After %s, MaxDelay %v: first wait %v, want %v", tt.status, tt.after, tt.max, got, tt.want)
		}
	}
}
