package engine

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"crypto/tls"
	"crypto/x509"
)

// The client through a third-party SOCKS5 proxy (simple-socks from npm) and
// HTTPS proxies. HTTP CONNECT is tested in client_dial_test.go; the SOCKS5 and
// CONNECT clients themselves in package proxy.

// simple-socks from npm: a third-party SOCKS5 proxy, with and without
// authentication.
func TestClientSOCKS5Node(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, newCliPeer(true), Config{}, nil)
	tests := []struct {
		name       string
		user, pass string // the proxy's
		cred       *url.Userinfo
		err        error
	}{
		{name: "no auth"},
		{name: "user and password", user: "foo", pass: "bar", cred: url.UserPassword("foo", "bar")},
		{name: "wrong password", user: "foo", pass: "bar", cred: url.UserPassword("foo", "baz"), err: ErrProxy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			paddr, events := cliNodeSocks(t, tt.user, tt.pass)
			c, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws://"+addr+"/", &DialOptions{
				Proxy: http.ProxyURL(&url.URL{Scheme: "socks5", Host: paddr, User: tt.cred}),
			})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				if ev := cliRecv(t, events, "authError"); ev["ev"] != "authError" {
					t.Fatalf("proxy event %v", ev)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Abort()
			cliEchoOnce(t, c)
			ev := cliRecv(t, events, "connect")
			if ev["ev"] != "connect" || ev["address"] != "127.0.0.1" || net.JoinHostPort("127.0.0.1", strconv.Itoa(int(ev["port"].(float64)))) != addr {
				t.Fatalf("proxy event %v, want a connect to %s", ev, addr)
			}
		})
	}
}

// cliNodeSocks starts simple-socks (testdata/nodews/socks.mjs), requiring user
// and pass when user is set, and returns its address and its events.
func cliNodeSocks(t *testing.T, user, pass string) (string, <-chan map[string]any) {
	t.Helper()
	cliNodeSetup(t)
	args := []string{"socks.mjs"}
	if user != "" {
		args = append(args, user, pass)
	}
	cmd := exec.Command(cliNodeBin, args...)
	cmd.Dir = cliNodeDir
	stderr := &syncBuf{}
	cmd.Stderr = stderr
	stdin, stdout := startPiped(t, cmd)
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
		if t.Failed() {
			t.Logf("simple-socks stderr:\n%s", stderr)
		}
	})
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "LISTEN ") {
		t.Fatalf("simple-socks did not start: %q\n%s", sc.Text(), stderr)
	}
	events := make(chan map[string]any, 16)
	go func() {
		for sc.Scan() {
			var ev map[string]any
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				events <- ev
			}
		}
	}()
	return net.JoinHostPort("127.0.0.1", strings.TrimPrefix(sc.Text(), "LISTEN ")), events
}

// An HTTPS proxy: TLS to the proxy, CONNECT inside, then ws or wss through it.
func TestClientHTTPSProxy(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, newCliPeer(true), Config{}, nil)
	taddr := cliTLSServer(t, newCliPeer(true), Config{}, nil)
	_, tport, _ := net.SplitHostPort(taddr)
	roots := &tls.Config{RootCAs: cliTestCert(t).pool}
	for _, target := range []string{"ws://" + addr + "/", "wss://localhost:" + tport + "/"} {
		t.Run(target[:strings.Index(target, ":")], func(t *testing.T) {
			t.Parallel()
			p := cliStartTLSProxy(t)
			c := cliDial(t, cliClient(t, nil, Config{}), target, &DialOptions{Proxy: http.ProxyURL(p.url(nil)), TLSConfig: roots})
			cliEchoOnce(t, c)
			u, _ := url.Parse(target)
			if got := p.used(); len(got) != 1 || got[0].target != u.Host {
				t.Fatalf("CONNECTs %+v, want one to %s", got, u.Host)
			}
		})
	}
	t.Run("untrusted proxy certificate", func(t *testing.T) {
		t.Parallel()
		p := cliStartTLSProxy(t)
		_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws://"+addr+"/", &DialOptions{Proxy: http.ProxyURL(p.url(nil))})
		var uae x509.UnknownAuthorityError
		if !errors.As(err, &uae) || len(p.used()) != 0 {
			t.Fatalf("err = %v (%T), CONNECTs %+v; want an unknown-authority error before any CONNECT", err, err, p.used())
		}
	})
	t.Run("unsupported scheme", func(t *testing.T) {
		t.Parallel()
		_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws://"+addr+"/", &DialOptions{
			Proxy: http.ProxyURL(&url.URL{Scheme: "socks4", Host: "127.0.0.1:1"}),
		})
		if !errors.Is(err, ErrProxyScheme) {
			t.Fatalf("err = %v, want ErrProxyScheme", err)
		}
	})
}
