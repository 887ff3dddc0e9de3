//go:build linux

package sock

import (
	"fmt"
	"io"
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkFrameWrite is issue #15's A/B of one write(2) against writev(2) for a
// frame: a 2-byte (4 for 16 KiB) header and the payload, over a loopback TCP
// connection whose other end a goroutine drains. "writev" is what the engine
// does (writev2: header and payload as two iovecs); "write" copies both into
// one contiguous buffer first and makes one write(2) of it, which is what the
// engine could do for a frame whose header and payload were contiguous, or
// by copying a small payload. The socket is blocking, so both wait alike when
// the reader falls behind.
func BenchmarkFrameWrite(b *testing.B) {
	for _, size := range []int{64, 1024, 16384} {
		for _, mode := range []string{"writev", "write"} {
			b.Run(fmt.Sprintf("%s/%d", mode, size), func(b *testing.B) {
				fd, stop := loopbackWriter(b)
				defer stop()
				hdr := []byte{0x82, byte(size)}
				if size > 125 {
					hdr = []byte{0x82, 126, byte(size >> 8), byte(size)}
				}
				payload := make([]byte, size)
				flat := make([]byte, len(hdr)+size)
				b.SetBytes(int64(len(flat)))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					var err error
					if mode == "writev" {
						_, err = writev2(fd, hdr, payload)
					} else {
						copy(flat[copy(flat, hdr):], payload)
						_, err = unix.Write(fd, flat)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// loopbackWriter returns the fd of one end of a loopback TCP connection (a
// blocking duplicate) and drains the other end until stop.
func loopbackWriter(b *testing.B) (int, func()) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(io.Discard, s)
	}()
	f, err := c.(*net.TCPConn).File() // a blocking duplicate
	if err != nil {
		b.Fatal(err)
	}
	return int(f.Fd()), func() {
		f.Close()
		c.Close()
		<-done
		s.Close()
	}
}
