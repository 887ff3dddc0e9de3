package proxy

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strconv"
)

// SOCKS5 (RFC 1928) constants.
const (
	socksVersion      = 5
	socksNoAuth       = 0x00
	socksUserPass     = 0x02 // RFC 1929
	socksNoAcceptable = 0xff
	socksConnect      = 0x01
	socksIPv4         = 0x01
	socksDomain       = 0x03
	socksIPv6         = 0x04
)

// socksReplies are the REP texts of RFC 1928 §6.
var socksReplies = [...]string{
	1: "general SOCKS server failure",
	2: "connection not allowed by ruleset",
	3: "network unreachable",
	4: "host unreachable",
	5: "connection refused",
	6: "TTL expired",
	7: "command not supported",
	8: "address type not supported",
}

// connectSOCKS5 runs a SOCKS5 CONNECT to target over nc: method selection, the
// user name and password of proxy's URL if it has them (RFC 1929), then the
// request. A host name is sent as a name for the proxy to resolve; an IP literal
// as an address. Every read is exact and at most 257 bytes, so no tunnel byte
// is consumed and the proxy's lengths (one byte each) bound the memory.
func connectSOCKS5(nc net.Conn, proxy *url.URL, target string) error {
	host, portStr, err := net.SplitHostPort(target)
	if err != nil {
		return err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return fmt.Errorf("weir: socks5: bad port in %q", target)
	}
	// §3: version, methods offered.
	hello := []byte{socksVersion, 1, socksNoAuth}
	if proxy.User != nil {
		hello = []byte{socksVersion, 2, socksNoAuth, socksUserPass}
	}
	if _, err := nc.Write(hello); err != nil {
		return err
	}
	var b [2]byte
	if _, err := io.ReadFull(nc, b[:]); err != nil {
		return err
	}
	if b[0] != socksVersion {
		return fmt.Errorf("%w: socks5: version %d in the method reply", ErrBadReply, b[0])
	}
	// §3: the proxy selects one of the methods offered; user name and
	// password was offered only with proxy.User, so without it that choice
	// breaks the protocol (ErrBadReply, as any method not offered), it is no
	// refusal.
	switch {
	case b[1] == socksNoAuth:
	case b[1] == socksUserPass && proxy.User != nil:
		if err := socksAuth(nc, proxy.User); err != nil {
			return err
		}
	case b[1] == socksNoAcceptable:
		return fmt.Errorf("%w: socks5: no acceptable authentication method", ErrRefused)
	default:
		return fmt.Errorf("%w: socks5: proxy chose method %d, which was not offered", ErrBadReply, b[1])
	}
	req, err := socksRequest(host, uint16(port))
	if err != nil {
		return err
	}
	if _, err := nc.Write(req); err != nil {
		return err
	}
	return socksReply(nc)
}

// socksRequest is the CONNECT request (§4).
func socksRequest(host string, port uint16) ([]byte, error) {
	req := []byte{socksVersion, socksConnect, 0}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Is4() || ip.Is4In6() {
			a := ip.Unmap().As4()
			req = append(append(req, socksIPv4), a[:]...)
		} else {
			a := ip.As16()
			req = append(append(req, socksIPv6), a[:]...)
		}
	} else {
		if len(host) > 255 {
			return nil, fmt.Errorf("weir: socks5: host name over 255 bytes")
		}
		req = append(append(req, socksDomain, byte(len(host))), host...)
	}
	return binary.BigEndian.AppendUint16(req, port), nil
}

// socksReply reads the answer to CONNECT (§6): VER REP RSV ATYP BND.ADDR
// BND.PORT, exactly.
func socksReply(nc net.Conn) error {
	var head [4]byte
	if _, err := io.ReadFull(nc, head[:]); err != nil {
		return err
	}
	if head[0] != socksVersion {
		return fmt.Errorf("%w: socks5: version %d in the reply", ErrBadReply, head[0])
	}
	if rep := head[1]; rep != 0 {
		text := "reply " + strconv.Itoa(int(rep))
		if int(rep) < len(socksReplies) && socksReplies[rep] != "" {
			text = socksReplies[rep]
		}
		return fmt.Errorf("%w: socks5: %s", ErrRefused, text)
	}
	var rest [255 + 2]byte
	var skip int
	switch head[3] {
	case socksIPv4:
		skip = 4
	case socksIPv6:
		skip = 16
	case socksDomain:
		if _, err := io.ReadFull(nc, rest[:1]); err != nil {
			return err
		}
		skip = int(rest[0])
	default:
		return fmt.Errorf("%w: socks5: address type %d in the reply", ErrBadReply, head[3])
	}
	_, err := io.ReadFull(nc, rest[:skip+2])
	return err
}

// socksAuth is the user name and password subnegotiation (RFC 1929 §2).
func socksAuth(nc net.Conn, user *url.Userinfo) error {
	name := user.Username()
	pw, _ := user.Password()
	if len(name) == 0 || len(name) > 255 || len(pw) > 255 {
		return fmt.Errorf("weir: socks5: user name and password must be 1-255 and 0-255 bytes")
	}
	msg := append([]byte{1, byte(len(name))}, name...)
	msg = append(append(msg, byte(len(pw))), pw...)
	if _, err := nc.Write(msg); err != nil {
		return err
	}
	var b [2]byte
	if _, err := io.ReadFull(nc, b[:]); err != nil {
		return err
	}
	if b[0] != 1 {
		// RFC 1929 §2: VER is 1. Another is not an answer to what was sent,
		// whatever its STATUS says.
		return fmt.Errorf("%w: socks5: version %d in the authentication reply", ErrBadReply, b[0])
	}
	if b[1] != 0 {
		return fmt.Errorf("%w: socks5: authentication failed", ErrRefused)
	}
	return nil
}
