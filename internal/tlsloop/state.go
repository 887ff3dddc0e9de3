package tlsloop

import (
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
// and crypto/tls's exporter (ConnectionState.ExportKeyingMaterial): 40
// bytes. ConnectionState rebuilds the struct on request, equal field by
// field (TestStateRebuilt, against crypto/tls's own state for TLS 1.2 and
// 1.3, with and without client certificates, resumed, ALPN; exported keying
// material equal).
//
// The exporter is an unexported func field that only crypto/tls sets and
// nothing outside it can read or write; RFC 8446 §7.5's exporter secret is
// not logged (KeyLogWriter has no line for it), so it cannot be computed here
// either. It is read and written through its reflect-found offset, which is
// only done when ConnectionState is exactly the struct this file knows
// (stateLayout: the fields by name, ekm's type): when a Go release changes
// it, every connection keeps crypto/tls's whole state (full) instead, which
// costs memory and nothing else.

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
)

// ident is a compacted tls.ConnectionState (identity: set by New, read-only
// after, any goroutine may read it).
type ident struct {
	ekm   ekmFunc    // crypto/tls's exporter, as in the state
	names string     // the ALPN protocol (names[:alpnLen]), then the SNI (names.go)
	rare  *rareState // nil when all of its slices are

	version, suite uint16
	curve          tls.CurveID
	flags, alpnLen uint8
}

// rareState is what a ConnectionState keeps only sometimes: the peer's
// certificates (every client side; a server side with ClientAuth), SCTs,
// OCSP, tls-unique (TLS 1.2 only). full is the whole state when compaction
// is off (ekmOffset 0).
type rareState struct {
	peer     []*x509.Certificate
	verified [][]*x509.Certificate
	scts     [][]byte
	ocsp     []byte
	unique   []byte
	full     *tls.ConnectionState
}

// compact returns st's ident.
func compact(st *tls.ConnectionState) ident {
	if ekmOffset == 0 || len(st.NegotiatedProtocol) > maxALPN {
		full := *st
		return ident{rare: &rareState{full: &full}}
	}
	id := ident{
		ekm: *ekmOf(st), names: intern(st.NegotiatedProtocol, st.ServerName), alpnLen: uint8(len(st.NegotiatedProtocol)),
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
	if st.PeerCertificates != nil || st.VerifiedChains != nil || st.SignedCertificateTimestamps != nil ||
		st.OCSPResponse != nil || st.TLSUnique != nil {
		id.rare = &rareState{peer: st.PeerCertificates, verified: st.VerifiedChains,
			scts: st.SignedCertificateTimestamps, ocsp: st.OCSPResponse, unique: st.TLSUnique}
	}
	return id
}

// state rebuilds the ConnectionState id was made from.
func (id *ident) state() tls.ConnectionState {
	if id.rare != nil && id.rare.full != nil {
		return *id.rare.full
	}
	st := tls.ConnectionState{
		Version: id.version, CipherSuite: id.suite, CurveID: id.curve,
		NegotiatedProtocol: id.names[:id.alpnLen], ServerName: id.names[id.alpnLen:],
		HandshakeComplete:          id.flags&fComplete != 0,
		DidResume:                  id.flags&fResumed != 0,
		NegotiatedProtocolIsMutual: id.flags&fALPNMutual != 0,
		ECHAccepted:                id.flags&fECH != 0,
	}
	setHRR(&st, id.flags&fHRR != 0)
	if r := id.rare; r != nil {
		st.PeerCertificates, st.VerifiedChains, st.SignedCertificateTimestamps = r.peer, r.verified, r.scts
		st.OCSPResponse, st.TLSUnique = r.ocsp, r.unique
	}
	if ekmOffset != 0 {
		*ekmOf(&st) = id.ekm
	}
	return st
}
