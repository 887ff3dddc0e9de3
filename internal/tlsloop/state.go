package tlsloop

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"reflect"
	"unsafe"
)

// An idle connection keeps its handshake's tls.ConnectionState for
// Conn.ConnectionState (the engine's Conn.TLSConnectionState and
// upgrade.Request.TLS). The struct is 192 bytes, most of them slices that
// are nil on a server connection without a client certificate (peer
// certificates, verified chains, SCTs, OCSP, tls-unique, which TLS 1.3 never
// has), so ident keeps what is set: version, suite, curve and flags in 8
// bytes, ALPN and SNI as one string shared by the connections that have the
// same (names.go), the slices behind a pointer only when one of them is set,
// and the keying material exporter (ConnectionState.ExportKeyingMaterial)
// as its 32-byte secret (exporter.go): 56 bytes. ConnectionState rebuilds
// the struct on request, equal field by field (TestStateRebuilt, against
// crypto/tls's own state for TLS 1.2 and 1.3, with and without client
// certificates, resumed, ALPN; exported keying material equal).
//
// The exporter is an unexported func field that only crypto/tls sets and
// nothing outside it can read or write. It is read and written through its
// reflect-found offset, which is only done when ConnectionState is exactly
// the struct this file knows (stateLayout: the fields by name, ekm's type):
// when a Go release changes it, every connection keeps crypto/tls's whole
// state (full) instead, which costs memory and nothing else. When the
// exporter's secret cannot be read and proven (exporter.go), the connection
// keeps crypto/tls's exporter in its rare part, as before.

// ekmFunc is the type of tls.ConnectionState's unexported ekm field.
type ekmFunc = func(label string, context []byte, length int) ([]byte, error)

// knownFields are tls.ConnectionState's fields; ident keeps every exported
// one. Go 1.26 adds HelloRetryRequest (state_go126.go).
var knownFields = withNewer(map[string]bool{
	"Version": true, "HandshakeComplete": true, "DidResume": true, "CipherSuite": true,
	"CurveID": true, "NegotiatedProtocol": true, "NegotiatedProtocolIsMutual": true,
	"ServerName": true, "PeerCertificates": true, "VerifiedChains": true,
	"SignedCertificateTimestamps": true, "OCSPResponse": true, "TLSUnique": true,
	"ECHAccepted": true,
	"ekm":         true, "testingOnlyPeerSignatureAlgorithm": true, // unexported: the exporter; a test hook, not kept
})

func withNewer(m map[string]bool) map[string]bool {
	for _, f := range newerFields {
		m[f] = true
	}
	return m
}

// ekmOffset is the offset of ConnectionState.ekm, or 0 when the struct is not
// the one knownFields describes (the offset of Version, never ekm's): then
// compaction is off.
var ekmOffset = stateLayout(reflect.TypeFor[tls.ConnectionState](), knownFields)

func stateLayout(t reflect.Type, known map[string]bool) uintptr {
	if t.NumField() != len(known) {
		return 0
	}
	var off uintptr
	for i := range t.NumField() {
		f := t.Field(i)
		if !known[f.Name] {
			return 0
		}
		if f.Name == "ekm" {
			if f.Type != reflect.TypeFor[ekmFunc]() || f.Offset == 0 {
				return 0
			}
			off = f.Offset
		}
	}
	return off
}

// ErrNoExporter is what ExportKeyingMaterial returns on a state whose
// exporter DropExporter let go.
var ErrNoExporter = errors.New("tls: the keying material exporter of this connection was not kept")

func noExporter(string, []byte, int) ([]byte, error) { return nil, ErrNoExporter }

// DropExporter replaces st's exporter with one that returns ErrNoExporter, so
// that crypto/tls's exporter secret (about 120 bytes in five allocations)
// does not live as long as the connection. It reports false, changing
// nothing, when the layout of tls.ConnectionState is not the known one (then
// the whole state is kept anyway).
func DropExporter(st *tls.ConnectionState) bool {
	if ekmOffset == 0 {
		return false
	}
	*ekmOf(st) = noExporter
	return true
}

func ekmOf(st *tls.ConnectionState) *ekmFunc {
	return (*ekmFunc)(unsafe.Add(unsafe.Pointer(st), ekmOffset))
}

// Flags of ident.
const (
	fComplete = 1 << iota
	fResumed
	fALPNMutual
	fECH
	fHRR
	fExporter   // exp holds the SHA-256 suite's exporter secret
	fNoExporter // DropExporter let the exporter go
)

// ident is a compacted tls.ConnectionState (identity: set by New, read-only
// after, any goroutine may read it).
type ident struct {
	names *string    // the ALPN protocol ((*names)[:alpnLen]), then the SNI (names.go); nil when both are empty
	rare  *rareState // nil when all of its fields are
	// exp is the exporter_master_secret (RFC 8446 §7.5) when fExporter is
	// set: a SHA-256 suite's, the suite nearly every connection has
	// (crypto/tls's server prefers AES-128-GCM); a SHA-384 suite's is
	// rare.exp.
	exp [sha256.Size]byte

	version, suite uint16
	curve          tls.CurveID
	flags, alpnLen uint8
}

// rareState is what a ConnectionState keeps only sometimes: the peer's
// certificates (every client side; a server side with ClientAuth), SCTs,
// OCSP, tls-unique (TLS 1.2 only), the exporter when it is not ident.exp
// (crypto/tls's closure, or a SHA-384 secret). full is the whole state when
// compaction is off (ekmOffset 0).
type rareState struct {
	peer     []*x509.Certificate
	verified [][]*x509.Certificate
	scts     [][]byte
	ocsp     []byte
	unique   []byte
	ekm      ekmFunc // crypto/tls's exporter, when its secret was not read
	exp      []byte  // a SHA-384 suite's exporter secret
	full     *tls.ConnectionState
}

// compact returns st's ident.
func compact(st *tls.ConnectionState) ident {
	if ekmOffset == 0 || len(st.NegotiatedProtocol) > maxALPN {
		full := *st
		return ident{rare: &rareState{full: &full}}
	}
	id := ident{
		names: intern(st.NegotiatedProtocol, st.ServerName), alpnLen: uint8(len(st.NegotiatedProtocol)),
		version: st.Version, suite: st.CipherSuite, curve: st.CurveID,
	}
	for _, f := range [...]struct {
		on  bool
		bit uint8
	}{{st.HandshakeComplete, fComplete}, {st.DidResume, fResumed}, {st.NegotiatedProtocolIsMutual, fALPNMutual},
		{st.ECHAccepted, fECH}, {hrr(st), fHRR}} {
		if f.on {
			id.flags |= f.bit
		}
	}
	var rare rareState
	ekm := *ekmOf(st)
	switch secret := exporterSecret(ekm, st.CipherSuite); {
	case isNoExporter(ekm):
		id.flags |= fNoExporter
	case len(secret) == len(id.exp):
		copy(id.exp[:], secret)
		clear(secret)
		id.flags |= fExporter
	case secret != nil:
		rare.exp = secret
	default:
		rare.ekm = ekm
	}
	if st.PeerCertificates != nil || st.VerifiedChains != nil || st.SignedCertificateTimestamps != nil ||
		st.OCSPResponse != nil || st.TLSUnique != nil || rare.ekm != nil || rare.exp != nil {
		rare.peer, rare.verified, rare.scts = st.PeerCertificates, st.VerifiedChains, st.SignedCertificateTimestamps
		rare.ocsp, rare.unique = st.OCSPResponse, st.TLSUnique
		id.rare = &rare
	}
	return id
}

// isNoExporter reports whether ekm is DropExporter's.
func isNoExporter(ekm ekmFunc) bool {
	return ekm != nil && *(*unsafe.Pointer)(unsafe.Pointer(&ekm)) == *(*unsafe.Pointer)(unsafe.Pointer(&noExporterFunc))
}

var noExporterFunc ekmFunc = noExporter

// state rebuilds the ConnectionState id was made from.
func (id *ident) state() tls.ConnectionState {
	if id.rare != nil && id.rare.full != nil {
		return *id.rare.full
	}
	var names string
	if id.names != nil {
		names = *id.names
	}
	st := tls.ConnectionState{
		Version: id.version, CipherSuite: id.suite, CurveID: id.curve,
		NegotiatedProtocol: names[:id.alpnLen], ServerName: names[id.alpnLen:],
		HandshakeComplete:          id.flags&fComplete != 0,
		DidResume:                  id.flags&fResumed != 0,
		NegotiatedProtocolIsMutual: id.flags&fALPNMutual != 0,
		ECHAccepted:                id.flags&fECH != 0,
	}
	setHRR(&st, id.flags&fHRR != 0)
	var ekm ekmFunc
	switch r := id.rare; {
	case id.flags&fNoExporter != 0:
		ekm = noExporter
	case id.flags&fExporter != 0:
		ekm = id.export // a closure over id: 16 bytes, made only here
	case r != nil && r.exp != nil:
		ekm = id.export
	case r != nil:
		ekm = r.ekm
	}
	if r := id.rare; r != nil {
		st.PeerCertificates, st.VerifiedChains, st.SignedCertificateTimestamps = r.peer, r.verified, r.scts
		st.OCSPResponse, st.TLSUnique = r.ocsp, r.unique
	}
	if ekmOffset != 0 {
		*ekmOf(&st) = ekm
	}
	return st
}

// export is the connection's keying material exporter (RFC 8446 §7.5) from
// the secret compact read (exporter.go).
func (id *ident) export(label string, context []byte, length int) ([]byte, error) {
	secret := id.exp[:]
	if id.flags&fExporter == 0 {
		secret = id.rare.exp
	}
	return exportKeyingMaterial(exporterHash(id.suite), secret, label, context, length)
}
