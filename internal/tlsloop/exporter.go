package tlsloop

import (
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"hash"
	"sync/atomic"
)

// The keying material exporter of a TLS 1.3 connection (RFC 8446 §7.5,
// ConnectionState.ExportKeyingMaterial; the tls-exporter channel binding of
// RFC 9266) is a function of one secret, exporter_master_secret, and the
// suite's hash. crypto/tls keeps it as a closure over its own copy of that
// secret: about 120 bytes in five small allocations per connection
// (the closure, an ExporterMasterSecret, the secret, two hash closures),
// the largest part of an idle wss connection's heap that is not ours. A
// Conn keeps the secret instead, inline (state.go), and computes the
// exporter itself.
//
// crypto/tls does not log the exporter secret (its KeyLogWriter writes no
// EXPORTER_SECRET line), so it is read from crypto/tls's closure, which is
// only done where the closure is known (exporter_go126.go: the Go release
// whose source was read; the closure's function, by entry point and name,
// and the secret's length are checked for every connection) and is never
// trusted without proof: the exporter computed here from the secret read
// must equal crypto/tls's own for a probe label, or no connection's secret
// is read again and every connection keeps crypto/tls's closure, as before
// (TestExporterMatchesCryptoTLS: byte for byte, labels, contexts, lengths,
// both suites, both ends). The proof is made once per suite and process,
// not per connection: what it proves, where this closure's code keeps the
// secret, is the same for every closure the checked function makes, and
// each probe costs a hand-off about 4 KB of garbage and two exporter runs
// (BenchmarkCompactExporter), which during a connect storm raise the heap's
// peak, and so the RSS an idle server keeps
// (bench/results/tls-2026-12-07-idle4.md).

// errExporterArgs is what the exporter returns for a label or a length
// RFC 8446 cannot encode (HkdfLabel's label is at most 255 bytes with its
// "tls13 " prefix, §7.1; HKDF-Expand gives at most 255 blocks, RFC 5869
// §2.3), where crypto/tls's would panic.
var errExporterArgs = errors.New("tls: exporter label or length out of range")

// exporterHash is the hash of a TLS 1.3 suite run here; nil for another.
func exporterHash(suite uint16) func() hash.Hash {
	switch suite {
	case tls.TLS_AES_128_GCM_SHA256:
		return sha256.New
	case tls.TLS_AES_256_GCM_SHA384:
		return sha512.New384
	}
	return nil
}

// exportKeyingMaterial is RFC 8446 §7.5's exporter:
//
//	TLS-Exporter(label, context, length) =
//	    HKDF-Expand-Label(Derive-Secret(secret, label, ""),
//	                      "exporter", Hash(context), length)
//
// where Derive-Secret(s, l, "") = HKDF-Expand-Label(s, l, Hash(""),
// Hash.length) (§7.1). A nil context is the empty one, as in crypto/tls.
func exportKeyingMaterial(h func() hash.Hash, secret []byte, label string, context []byte, length int) ([]byte, error) {
	if len(label) > 255-len("tls13 ") || length < 0 || length > 255*h().Size() {
		return nil, errExporterArgs
	}
	empty := h().Sum(nil)
	derived, err := expandLabel(h, secret, label, empty, len(empty))
	if err != nil {
		return nil, err
	}
	defer clear(derived)
	hc := h()
	hc.Write(context)
	return expandLabel(h, derived, "exporter", hc.Sum(nil), length)
}

// expandLabel is HKDF-Expand-Label (RFC 8446 §7.1): HKDF-Expand(secret,
// HkdfLabel, length) with HkdfLabel = uint16 length, opaque label<7..255> =
// "tls13 " + label, opaque context<0..255>. Callers keep label and context
// within their bounds (context is always a hash here).
func expandLabel(h func() hash.Hash, secret []byte, label string, context []byte, length int) ([]byte, error) {
	info := make([]byte, 0, 2+1+len("tls13 ")+len(label)+1+len(context))
	info = append(info, byte(length>>8), byte(length), byte(len("tls13 ")+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	return hkdf.Expand(h, secret, string(info), length)
}

// probeLabel is the label the exporter secret read from crypto/tls's
// closure is checked with (RFC 5705 §4: labels beginning "EXPERIMENTAL" are
// for private use; nothing is sent, the output is compared and cleared).
const probeLabel = "EXPERIMENTAL weir exporter probe"

// Proof states of a suite's exporter reading (proofs).
const (
	proofNone    = iota // not yet proven: the next connection probes
	proofMade           // proven: read without probing
	proofRefuted        // the probe failed once: never read again
)

// readSecret is readExporterSecret (a test makes it misread).
var readSecret = readExporterSecret

// proofs holds the proof state of each suite's exporter reading: [0] for
// TLS_AES_128_GCM_SHA256, [1] for TLS_AES_256_GCM_SHA384.
var proofs [2]atomic.Uint32

// exporterSecret returns the exporter_master_secret behind ekm, crypto/tls's
// exporter of a TLS 1.3 connection with suite, or nil when it cannot be read
// (another Go release, another closure: a TLS 1.2 connection's, one with
// renegotiation, DropExporter's) or was never proven: the first connection
// of each suite proves the secret it reads (the exporter computed from it
// equals ekm's own for the probe); a failed proof stops all reading. The
// secret returned is a copy.
func exporterSecret(ekm ekmFunc, suite uint16) []byte {
	h := exporterHash(suite)
	if ekm == nil || h == nil {
		return nil
	}
	proof := &proofs[0]
	if suite == tls.TLS_AES_256_GCM_SHA384 {
		proof = &proofs[1]
	}
	state := proof.Load()
	if state == proofRefuted {
		return nil
	}
	secret := readSecret(ekm, h().Size())
	if secret == nil || state == proofMade {
		return secret
	}
	if !provenExporter(ekm, h, secret) {
		proof.Store(proofRefuted)
		clear(secret)
		return nil
	}
	proof.CompareAndSwap(proofNone, proofMade)
	return secret
}

// provenExporter reports whether the exporter computed here from secret
// gives what ekm gives for the probe.
func provenExporter(ekm ekmFunc, h func() hash.Hash, secret []byte) bool {
	want, err := ekm(probeLabel, []byte{1}, 32)
	if err != nil {
		return false
	}
	got, err := exportKeyingMaterial(h, secret, probeLabel, []byte{1}, 32)
	ok := err == nil && len(want) == 32 && subtle.ConstantTimeCompare(got, want) == 1
	clear(want)
	clear(got)
	return ok
}
