package tlsloop

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// exporterCases are the labels, contexts and lengths every exporter is
// compared with: empty and long labels (249 bytes is the longest HkdfLabel
// holds, RFC 8446 §7.1), nil and empty contexts (the same in TLS 1.3) and a
// context longer than a hash block, lengths from none to 255 blocks of the
// suite's hash (RFC 5869 §2.3's limit).
func exporterCases(hashSize int) (labels []string, contexts [][]byte, lengths []int) {
	labels = []string{"EXPERIMENTAL weir", "EXPORTER-Channel-Binding", "", "x", strings.Repeat("L", 249)}
	contexts = [][]byte{nil, {}, []byte("ctx"), bytes.Repeat([]byte{0xa5}, 300)}
	lengths = []int{0, 1, 12, 16, 32, 33, 48, 64, 100, 255 * hashSize}
	return
}

// sameExporter checks, byte for byte, that rebuilt's ExportKeyingMaterial is
// crypto/tls's (want's) for every case, and, when rebuilt's exporter is ours,
// that arguments crypto/tls would panic on are an error here.
func sameExporter(t *testing.T, what string, want, rebuilt tls.ConnectionState, ours bool) {
	t.Helper()
	labels, contexts, lengths := exporterCases(exporterHash(want.CipherSuite)().Size())
	n := 0
	for _, l := range labels {
		for _, c := range contexts {
			for _, k := range lengths {
				a, aerr := want.ExportKeyingMaterial(l, c, k)
				b, berr := rebuilt.ExportKeyingMaterial(l, c, k)
				if aerr != nil || berr != nil || len(a) != k || !bytes.Equal(a, b) {
					t.Fatalf("%s: label %q context %d bytes length %d: %x %v, crypto/tls says %x %v",
						what, l, len(c), k, b, berr, a, aerr)
				}
				n++
			}
		}
	}
	for _, bad := range []struct {
		label  string
		length int
	}{{strings.Repeat("L", 250), 32}, {"x", -1}, {"x", 255*exporterHash(want.CipherSuite)().Size() + 1}} {
		if !ours {
			break
		}
		if k, err := rebuilt.ExportKeyingMaterial(bad.label, nil, bad.length); !errors.Is(err, errExporterArgs) || k != nil {
			t.Errorf("%s: label of %d bytes, length %d: %x %v, want errExporterArgs", what, len(bad.label), bad.length, k, err)
		}
	}
	if n == 0 {
		t.Fatal("no case compared")
	}
}

// TestExporterMatchesCryptoTLS: a Conn keeps the exporter secret, not
// crypto/tls's closure, and exports what crypto/tls exports, byte for byte,
// on both ends of a TLS 1.3 connection with AES-128-GCM (Go to Go) and with
// each AES-GCM suite against openssl s_client (TestExporterOpenSSL).
func TestExporterMatchesCryptoTLS(t *testing.T) {
	t.Parallel()
	cert, pool := testCert(t)
	s, c := handshake(t, &tls.Config{Certificates: []tls.Certificate{cert}},
		&tls.Config{RootCAs: pool, ServerName: "localhost"})
	if s.CipherSuite != tls.TLS_AES_128_GCM_SHA256 {
		t.Fatalf("suite %#x", s.CipherSuite)
	}
	for _, end := range []struct {
		name string
		st   tls.ConnectionState
	}{{"server", s}, {"client", c}} {
		id := compact(&end.st)
		if id.flags&fExporter == 0 {
			t.Fatalf("%s: the exporter secret was not read from crypto/tls's closure", end.name)
		}
		if end.name == "server" && id.rare != nil {
			t.Errorf("server: the rare part is kept (ekm %v, exp %d bytes)", id.rare.ekm != nil, len(id.rare.exp))
		}
		sameExporter(t, end.name, end.st, id.state(), true)
	}
}

// TestExporterOpenSSL: against openssl s_client, for each AES-GCM suite, the
// exporter of the compacted server state is crypto/tls's, and the secret
// read from crypto/tls is the EXPORTER_SECRET openssl logs (NSS key log
// format), and what openssl's own exporter gives (-keymatexport): three
// implementations agree.
func TestExporterOpenSSL(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl")
	}
	cert, _ := testCert(t)
	for _, suite := range []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384} {
		t.Run(tls.CipherSuiteName(suite), func(t *testing.T) {
			t.Parallel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			keylog := filepath.Join(t.TempDir(), "keylog")
			const label = "EXPERIMENTAL weir openssl"
			cmd := exec.Command(bin, "s_client", "-connect", ln.Addr().String(), "-tls1_3",
				"-ciphersuites", tls.CipherSuiteName(suite), "-keylogfile", keylog,
				"-keymatexport", label, "-keymatexportlen", "40")
			stdin, _ := cmd.StdinPipe()
			out := &bytes.Buffer{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() }()
			nc, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(30 * time.Second))
			sc := tls.Server(nc, &tls.Config{Certificates: []tls.Certificate{cert}})
			if err := sc.Handshake(); err != nil {
				t.Fatal(err)
			}
			st := sc.ConnectionState()
			if st.CipherSuite != suite {
				t.Fatalf("suite %#x, want %#x", st.CipherSuite, suite)
			}
			id := compact(&st)
			secret := id.exp[:]
			switch {
			case suite == tls.TLS_AES_128_GCM_SHA256 && id.flags&fExporter != 0:
			case suite == tls.TLS_AES_256_GCM_SHA384 && id.rare != nil && len(id.rare.exp) == 48 && id.rare.ekm == nil:
				secret = id.rare.exp
			default:
				t.Fatalf("the exporter secret was not read (flags %#x)", id.flags)
			}
			rebuilt := id.state()
			sameExporter(t, "openssl", st, rebuilt, true)

			// openssl's side: after the handshake, s_client prints its keying
			// material and has written the key log; closing stdin ends it.
			sc.Write([]byte("x"))
			stdin.Close()
			cmd.Wait()
			logged := exporterLogged(t, keylog)
			if !bytes.Equal(logged, secret) {
				t.Errorf("the secret read from crypto/tls is %x, openssl logs %x", secret, logged)
			}
			theirs := keyingMaterial(t, out.String())
			ours, err := rebuilt.ExportKeyingMaterial(label, nil, 40)
			if err != nil || !bytes.Equal(ours, theirs) {
				t.Errorf("exported %x %v, openssl exports %x", ours, err, theirs)
			}
		})
	}
}

// exporterLogged returns the EXPORTER_SECRET line's secret of a key log.
func exporterLogged(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if w := strings.Fields(sc.Text()); len(w) == 3 && w[0] == "EXPORTER_SECRET" {
			b, err := hex.DecodeString(w[2])
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatal("openssl logged no EXPORTER_SECRET")
	return nil
}

// keyingMaterial returns what s_client printed as "Keying material: <hex>".
func keyingMaterial(t *testing.T, out string) []byte {
	t.Helper()
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Keying material: "); ok {
			b, err := hex.DecodeString(v)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("s_client printed no keying material:\n%s", out)
	return nil
}

// TestExporterNotProven: a secret that does not give crypto/tls's exporter
// output is refused (the connection then keeps crypto/tls's closure), and
// an exporter that is not crypto/tls's TLS 1.3 closure is never read.
func TestExporterNotProven(t *testing.T) {
	t.Parallel()
	cert, pool := testCert(t)
	s, _ := handshake(t, &tls.Config{Certificates: []tls.Certificate{cert}},
		&tls.Config{RootCAs: pool, ServerName: "localhost"})
	ekm := *ekmOf(&s)
	h := exporterHash(s.CipherSuite)
	secret := readExporterSecret(ekm, h().Size())
	if secret == nil {
		t.Fatal("no secret read")
	}
	if !provenExporter(ekm, h, secret) {
		t.Fatal("the right secret is not proven")
	}
	for i := range secret {
		bad := bytes.Clone(secret)
		bad[i] ^= 0x80
		if provenExporter(ekm, h, bad) {
			t.Fatalf("a secret with byte %d changed is proven", i)
		}
	}
	if readExporterSecret(ekm, 48) != nil {
		t.Error("a SHA-256 secret was read as a SHA-384 one")
	}
	fake := func(label string, context []byte, length int) ([]byte, error) { return make([]byte, length), nil }
	if readExporterSecret(fake, h().Size()) != nil || exporterSecret(fake, s.CipherSuite) != nil {
		t.Error("a closure that is not crypto/tls's was read")
	}
	if exporterSecret(noExporter, s.CipherSuite) != nil || exporterSecret(nil, s.CipherSuite) != nil {
		t.Error("DropExporter's or a nil exporter was read")
	}
	st := tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256}
	*ekmOf(&st) = fake
	id := compact(&st)
	if id.flags&fExporter != 0 || id.rare == nil || id.rare.ekm == nil {
		t.Fatal("a state with an unknown exporter does not keep it")
	}
	kept := id.state()
	if k, err := kept.ExportKeyingMaterial("x", nil, 3); err != nil || !bytes.Equal(k, []byte{0, 0, 0}) {
		t.Errorf("the kept exporter gives %x %v", k, err)
	}
}

// BenchmarkCompactExporter: what reading the exporter secret costs a
// hand-off once the suite's proof is made (the first iteration makes it),
// against the compaction of a state whose exporter was dropped.
func BenchmarkCompactExporter(b *testing.B) {
	cert, pool := testCert(b)
	s, _ := handshake(b, &tls.Config{Certificates: []tls.Certificate{cert}},
		&tls.Config{RootCAs: pool, ServerName: "localhost"})
	for _, bc := range []struct {
		name string
		st   tls.ConnectionState
	}{{"read", s}, {"dropped", func() tls.ConnectionState { d := s; DropExporter(&d); return d }()}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				st := bc.st
				if id := compact(&st); id.flags&(fExporter|fNoExporter) == 0 {
					b.Fatal("exporter not read")
				}
			}
		})
	}
}

// TestExporterProofOnce: the first connection of a suite proves the secret
// read; after that a connection's secret is read without the probe; a
// secret that fails the proof (a misread, simulated) is refused and no
// connection's secret is read again: they keep crypto/tls's closure, and
// export what it exports. Not parallel: it sets the process's proof state
// and puts it back before any parallel test runs.
func TestExporterProofOnce(t *testing.T) {
	cert, pool := testCert(t)
	s, _ := handshake(t, &tls.Config{Certificates: []tls.Certificate{cert}},
		&tls.Config{RootCAs: pool, ServerName: "localhost"})
	saved := proofs[0].Load()
	defer proofs[0].Store(saved)
	proofs[0].Store(proofNone)
	if id := compact(&s); id.flags&fExporter == 0 || proofs[0].Load() != proofMade {
		t.Fatalf("first connection: flags %#x, proof %d", id.flags, proofs[0].Load())
	}
	d := s
	DropExporter(&d)
	base := testing.AllocsPerRun(20, func() { st := d; compact(&st) })
	allocs := testing.AllocsPerRun(20, func() { st := s; compact(&st) })
	if allocs > base+1 {
		t.Errorf("a proven suite's connection allocates %.0f times in compact (%.0f without the exporter), want the secret's copy only", allocs, base)
	}

	proofs[0].Store(proofNone)
	readSecret = func(ekm ekmFunc, size int) []byte {
		b := readExporterSecret(ekm, size)
		b[0] ^= 1
		return b
	}
	id := compact(&s)
	readSecret = readExporterSecret
	if id.flags&fExporter != 0 || id.rare == nil || id.rare.ekm == nil || proofs[0].Load() != proofRefuted {
		t.Fatalf("a misread secret: flags %#x, proof %d", id.flags, proofs[0].Load())
	}
	id = compact(&s)
	if id.flags&fExporter != 0 || id.rare == nil || id.rare.ekm == nil {
		t.Fatal("after a failed proof, a secret is read again")
	}
	sameExporter(t, "refuted", s, id.state(), false)
}
