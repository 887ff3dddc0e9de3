package cli

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/weir-ws/weir/internal/testcert"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// into dir and returns the two file names.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	cert, _, err := testcert.New("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err = testcert.WriteFiles(cert, dir)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestServeTLSFlags: -tls-cert and -tls-key load a key pair, go together,
// and a bad file is an error.
func TestServeTLSFlags(t *testing.T) {
	t.Parallel()
	cert, key := selfSigned(t, t.TempDir())
	tests := []struct {
		args    []string
		wantCfg bool
		wantErr bool
	}{
		{nil, false, false},
		{[]string{"-tls-cert", cert, "-tls-key", key}, true, false},
		{[]string{"-tls-cert", cert}, false, true},
		{[]string{"-tls-key", key}, false, true},
		{[]string{"-tls-cert", key, "-tls-key", key}, false, true},
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		f := addServeTLSFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		cfg, err := f.config()
		if (cfg != nil) != tc.wantCfg || (err != nil) != tc.wantErr {
			t.Errorf("%q: config %v, err %v", tc.args, cfg != nil, err)
		}
	}
}

// TestServeTLSCat: weir serve with a self-signed certificate serves wss on
// the event loops (the server's TLS metrics count a loop hand-off, no
// goroutine mode), and weir cat -insecure gets its echo; without -insecure
// the certificate is refused.
func TestServeTLSCat(t *testing.T) {
	t.Parallel()
	certFile, keyFile := selfSigned(t, t.TempDir())
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	f := addServeTLSFlags(fs)
	if err := fs.Parse([]string{"-tls-cert", certFile, "-tls-key", keyFile, "-tls-addr", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := f.config()
	if err != nil {
		t.Fatal(err)
	}
	d := startTestDemo(t, demoOptions{TLS: cfg, TLSAddr: *f.addr})
	url := "wss://" + d.srv.Addr().String() + "/"

	var stdout, stderr bytes.Buffer
	if err := runCat(testCtx(t), []string{"-timeout", "1m", "-insecure", "-quiet", "-x", "hello over wss", url}, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("cat: %v (%s)", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "hello over wss") {
		t.Fatalf("cat printed %q", stdout.String())
	}
	if m := d.srv.TLSMetrics(); m.Loop != 1 || m.Goroutine != 0 || m.Failed != 0 {
		t.Fatalf("server TLS metrics %+v: not on the loops", m)
	}

	// -timeout 1m: the refusal must be the certificate's, not a handshake
	// that a loaded machine did not finish within the default 10 s.
	err = runCat(testCtx(t), []string{"-timeout", "1m", "-quiet", "-x", "x", url}, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("cat without -insecure: %v", err)
	}
}
