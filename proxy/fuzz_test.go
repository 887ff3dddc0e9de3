package proxy

import (
	"bytes"
	"io"
	"net"
	"net/url"
	"testing"
)

// FuzzProxyReply feeds arbitrary proxy answers to the SOCKS5 and HTTP CONNECT
// clients: they must return (never panic or hang on a closed stream), and on
// success they must not have read past the end of the proxy's answer, since the
// bytes after it belong to the tunnel.
func FuzzProxyReply(f *testing.F) {
	f.Add(true, []byte{5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0, 80}, []byte("tunnel"))
	f.Add(true, []byte{5, 2, 1, 0, 5, 0, 0, 3, 3, 'a', 'b', 'c', 0, 80}, []byte("x"))
	f.Add(true, []byte{5, 0, 5, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 187}, []byte{})
	f.Add(true, []byte{5, 0xff}, []byte{})
	f.Add(true, []byte{5, 0, 5, 4, 0, 1, 0, 0, 0, 0, 0, 0}, []byte{})
	f.Add(false, []byte("HTTP/1.1 200 OK\r\n\r\n"), []byte("tunnel"))
	f.Add(false, []byte("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"), []byte{})
	f.Fuzz(func(t *testing.T, socks bool, answer, after []byte) {
		client, proxy := net.Pipe()
		defer client.Close()
		go func() {
			defer proxy.Close()
			go io.Copy(io.Discard, proxy) // the client's requests
			proxy.Write(answer)
			proxy.Write(after)
		}()
		u := &url.URL{Scheme: "http", Host: "proxy:80", User: url.UserPassword("u", "p")}
		var err error
		if socks {
			u.Scheme = "socks5"
			err = connectSOCKS5(client, u, "example.com:443")
		} else {
			err = connectHTTP(client, u, "example.com:443")
		}
		if err != nil {
			return
		}
		// The tunnel must read exactly what follows the proxy's answer: the client
		// consumed no byte past it.
		all := append(append([]byte(nil), answer...), after...)
		n := answerLen(socks, all)
		rest, _ := io.ReadAll(client)
		if n < 0 || string(rest) != string(all[n:]) {
			t.Fatalf("after a good answer (%d bytes by the spec) the tunnel read %q; the proxy sent %q", n, rest, all)
		}
	})
}

// answerLen is the length of the proxy answer at the start of b, by the specs
// rather than by the code under test: a SOCKS5 method reply, the RFC 1929 status
// when user name and password were chosen, and the CONNECT reply with its bound
// address (RFC 1928 §6); or an HTTP head up to its blank line (a line may end
// with LF alone, as net/textproto accepts). -1: b holds no complete answer.
func answerLen(socks bool, b []byte) int {
	if !socks {
		for i := 0; i < len(b); {
			j := bytes.IndexByte(b[i:], '\n')
			if j < 0 {
				return -1
			}
			line := b[i : i+j]
			i += j + 1
			if i > j+1 && (len(line) == 0 || string(line) == "\r") {
				return i
			}
		}
		return -1
	}
	i := 2
	if len(b) > 1 && b[1] == socksUserPass {
		i += 2
	}
	if len(b) < i+4 {
		return -1
	}
	switch b[i+3] {
	case socksIPv4:
		i += 4 + 4
	case socksIPv6:
		i += 4 + 16
	case socksDomain:
		if len(b) < i+5 {
			return -1
		}
		i += 4 + 1 + int(b[i+4])
	default:
		return -1
	}
	if i += 2; i > len(b) {
		return -1
	}
	return i
}
