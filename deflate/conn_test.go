package deflate

import (
	"bytes"
	"testing"

	"github.com/klauspost/compress/flate"
)

// TestConnReset: Reset gives a fresh state; history does not leak from one
// use to the next.
func TestConnReset(t *testing.T) {
	t.Parallel()
	msg := jsonText(9, 3000)
	var c Conn
	c.Reset(Params{}, true, nil)
	z1, _ := c.Compress(nil, msg)
	c.Reset(Params{}, true, nil)
	z2, _ := c.Compress(nil, msg)
	if !bytes.Equal(z1, z2) {
		t.Fatal("first message after Reset differs: history survived")
	}
	if got, err := Decompress(nil, z2, 1<<20); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("first message after Reset is not history-free: %v", err)
	}
	c.Release()
	c.Release() // idempotent
}

// TestPrepared: a message compressed once with the package Compress is valid
// on a connection with takeover, and Advance keeps the later messages
// decodable.
func TestPrepared(t *testing.T) {
	t.Parallel()
	pr := newPair(Params{}, nil)
	defer pr.release()
	a, b := jsonText(1, 2000), jsonText(2, 2000)
	send(t, pr.server, pr.client, a)
	prepared, err := Compress(nil, b, pr.server.WindowBits(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pr.client.Decompress(nil, prepared, 1<<20)
	if err != nil || !bytes.Equal(got, b) {
		t.Fatalf("prepared message: %v", err)
	}
	pr.server.Advance(b)
	// The next message refers into b, which the client's window now holds.
	n := send(t, pr.server, pr.client, b)
	if n > 100 {
		t.Fatalf("repeat of the prepared message compressed to %d bytes: history not advanced", n)
	}
}

func TestShouldCompress(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		opts *Options
		n    int
		want bool
	}{
		{nil, DefaultThreshold - 1, false},
		{nil, DefaultThreshold, true},
		{&Options{Threshold: 1000}, 999, false},
		{&Options{Threshold: 1000}, 1000, true},
		{&Options{Threshold: -1}, 0, true},
	} {
		c := NewConn(Params{}, true, tt.opts)
		if got := c.ShouldCompress(tt.n); got != tt.want {
			t.Errorf("%+v ShouldCompress(%d) = %v", tt.opts, tt.n, got)
		}
	}
}

// TestLevels: every level round-trips.
func TestLevels(t *testing.T) {
	t.Parallel()
	msg := jsonText(5, 50_000)
	for level := flate.BestSpeed; level <= flate.BestCompression; level++ {
		pr := newPair(Params{}, &Options{Level: level})
		send(t, pr.server, pr.client, msg)
		send(t, pr.server, pr.client, msg)
		pr.release()
	}
}

// TestConcurrentDirections: a Conn's writer and reader run at the same time,
// as the engine's do; -race checks they share nothing.
func TestConcurrentDirections(t *testing.T) {
	t.Parallel()
	pr := newPair(Params{}, nil)
	defer pr.release()
	msgs := make([][]byte, 50)
	zs := make([][]byte, len(msgs))
	for i := range msgs {
		msgs[i] = jsonText(int64(i), 3000)
		zs[i], _ = pr.client.Compress(nil, msgs[i])
	}
	done := make(chan error, 1)
	go func() {
		for i := range msgs {
			if _, err := pr.server.Compress(nil, msgs[i]); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i, z := range zs {
		got, err := pr.server.Decompress(nil, z, 1<<20)
		if err != nil || !bytes.Equal(got, msgs[i]) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
