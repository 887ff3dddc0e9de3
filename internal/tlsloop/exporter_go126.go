//go:build go1.26 && !go1.27

package tlsloop

import (
	"runtime"
	"unsafe"
)

// ekmClosure is the name of the function of crypto/tls's TLS 1.3 exporter
// closure, both ends (crypto/tls/key_schedule.go,
// cipherSuiteTLS13.exportKeyingMaterial, Go 1.26):
//
//	expMasterSecret := s.ExporterMasterSecret(transcript)
//	return func(label string, context []byte, length int) ([]byte, error) {
//		return expMasterSecret.Exporter(label, context, length), nil
//	}
//
// A func value points to the closure: the code pointer, then what it
// captures, here expMasterSecret, a *tls13.ExporterMasterSecret
// (crypto/internal/fips140/tls13) whose first field is the secret:
//
//	type ExporterMasterSecret struct {
//		secret []byte
//		hash   func() hash.Hash
//	}
const ekmClosure = "crypto/tls.(*cipherSuiteTLS13).exportKeyingMaterial.func1"

type ekmClosureLayout struct {
	fn  uintptr
	ems *struct {
		secret []byte // the rest of the struct is not read
	}
}

// readExporterSecret returns a copy of the secret ekm's closure holds, or
// nil when ekm is not that closure or the secret is not size bytes. It only
// reads memory once the closure's function is the one named above, whose
// layout is this Go release's; exporterSecret then proves the secret right
// before it is used.
func readExporterSecret(ekm ekmFunc, size int) []byte {
	c := *(**ekmClosureLayout)(unsafe.Pointer(&ekm))
	if c == nil || c.fn == 0 {
		return nil
	}
	f := runtime.FuncForPC(c.fn)
	if f == nil || f.Entry() != c.fn || f.Name() != ekmClosure || c.ems == nil {
		return nil
	}
	s := c.ems.secret
	if len(s) != size || cap(s) < size {
		return nil
	}
	return append([]byte(nil), s...)
}
