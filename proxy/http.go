package proxy

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
)

// MaxReplyBytes bounds the head of an HTTP proxy's answer to CONNECT (status
// line and fields). Past it the answer is ErrBadReply, so a proxy that never
// ends its head costs this much memory, not more.
const MaxReplyBytes = 16 << 10

// connectHTTP asks an HTTP proxy for a tunnel to target (RFC 9110 §9.3.6).
func connectHTTP(nc net.Conn, proxy *url.URL, target string) error {
	req := "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n"
	if proxy.User != nil {
		pw, _ := proxy.User.Password()
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(proxy.User.Username()+":"+pw)) + "\r\n"
	}
	req += "\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		return err
	}
	// Read the answer byte by byte up to the blank line: nothing past it may be
	// consumed, since the tunnel's first bytes belong to the caller. The limit
	// is on what reaches net/http's parser, which itself has none for a
	// response.
	lim := &limitReader{r: nc, n: MaxReplyBytes}
	resp, err := http.ReadResponse(bufio.NewReaderSize(lim, 16), &http.Request{Method: "CONNECT"})
	if err != nil {
		if lim.n == 0 {
			return fmt.Errorf("%w: answer head over %d bytes", ErrBadReply, MaxReplyBytes)
		}
		return err
	}
	// The body of a refusal is not read: the connection is closed anyway, and
	// Close would drain it.
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%w: %s", ErrRefused, resp.Status)
	}
	return nil
}

// limitReader reads one byte per call, so a bufio.Reader over it never reads
// ahead, and at most n bytes in all; then io.EOF.
type limitReader struct {
	r io.Reader
	n int
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	if len(p) > 1 {
		p = p[:1]
	}
	k, err := l.r.Read(p)
	l.n -= k
	return k, err
}
