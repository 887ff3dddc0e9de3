package dial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/upgrade"
)

// Handshake runs the client's opening handshake for req over nc: it writes the
// request, reads the response (bounded by upgrade.ParseResponse's limits) and
// validates it (upgrade.ValidateResponse; with comp, the permessage-deflate
// answer too, RFC 7692 §5.1). On error nc is closed; a non-101 answer is a
// *upgrade.HandshakeError with up to upgrade.DefaultErrorBodyLimit of body.
func Handshake(ctx context.Context, nc net.Conn, req *upgrade.ClientRequest, comp *deflate.Options) (*Result, error) {
	fail := func(err error) (*Result, error) {
		nc.Close()
		if ctx.Err() != nil && !errors.As(err, new(*upgrade.HandshakeError)) {
			err = fmt.Errorf("weir: dial %s: %w", req.Host, ctx.Err())
		}
		return nil, err
	}
	// Cancelling ctx, or its deadline, aborts a handshake in progress
	// (WebSocket-Node abort()): the socket gets a past deadline.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	out, err := req.AppendTo(nil)
	if err != nil {
		return fail(err)
	}
	if _, err := nc.Write(out); err != nil {
		return fail(err)
	}
	buf := make([]byte, 0, 4096)
	var resp upgrade.Response
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, rerr := nc.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		hn, perr := upgrade.ParseResponse(buf, &resp, nil) // bounded: ErrResponseHeaderTooLarge
		if perr == upgrade.ErrNeedMore {
			if rerr != nil {
				return fail(fmt.Errorf("weir: dial %s: reading the handshake response: %w", req.Host, rerr))
			}
			continue
		}
		if perr != nil {
			return fail(perr)
		}
		r := &Result{Conn: nc, Response: &http.Response{
			Status: fmt.Sprintf("%d %s", resp.StatusCode(), resp.Reason()), StatusCode: resp.StatusCode(),
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: resp.HTTPHeader(),
			Body: http.NoBody,
		}}
		r.Negotiated, err = upgrade.ValidateResponse(req, &resp)
		if err == nil && comp != nil {
			// RFC 7692 §5.1: a response the client did not allow fails the dial.
			_, _, err = comp.Accept(r.Negotiated.Extensions)
		}
		if err != nil {
			var he *upgrade.HandshakeError
			if errors.As(err, &he) {
				he.ReadBody(io.MultiReader(strings.NewReader(string(buf[hn:])), nc), upgrade.DefaultErrorBodyLimit)
			}
			return fail(err)
		}
		r.Head = append([]byte(nil), buf[hn:]...)
		if !stop() {
			// ctx ended just now and its past deadline may be on the socket.
			return fail(fmt.Errorf("weir: dial %s: %w", req.Host, context.Cause(ctx)))
		}
		return r, nil
	}
}
