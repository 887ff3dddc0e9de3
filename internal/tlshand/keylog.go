package tlshand

import (
	"bytes"
	"encoding/hex"
	"io"
	"sync"
)

// keyLog is the one Config.KeyLogWriter of a Prepared config: crypto/tls
// writes "LABEL <client random hex> <secret hex>\n" lines to it (NSS key log
// format) during every handshake, and it hands the two application traffic
// secrets to the connection registered under that client random, after
// passing every line to the user's own KeyLogWriter.
//
// A client random is public (the ClientHello is plaintext), so a peer can
// open a connection with the random of another. Registration of a random
// already registered is refused (that connection gets no secrets and stays in
// goroutine mode), and an entry that receives a label twice is poisoned: the
// secrets it holds may be another connection's, so it yields none. Either way
// the worst a peer can cause is goroutine mode, never keys of another
// connection.
type keyLog struct {
	user io.Writer
	mu   sync.Mutex
	m    map[[32]byte]*entry
}

type entry struct {
	client, server []byte
	poisoned       bool
}

func (l *keyLog) register(random [32]byte) *entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, dup := l.m[random]; dup {
		return nil
	}
	e := new(entry)
	l.m[random] = e
	return e
}

// take removes the entry of random and returns its secrets, nil if poisoned
// or incomplete. Lines that arrive later for the same random find no entry.
func (l *keyLog) take(random [32]byte, e *entry) (client, server []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m[random] == e {
		delete(l.m, random)
	}
	if e.poisoned || e.client == nil || e.server == nil {
		return nil, nil
	}
	return e.client, e.server
}

var (
	labelClient = []byte("CLIENT_TRAFFIC_SECRET_0")
	labelServer = []byte("SERVER_TRAFFIC_SECRET_0")
)

// Write implements io.Writer for Config.KeyLogWriter. crypto/tls calls it
// with one whole line, under its own global mutex; an error from the user's
// writer fails the handshake as it would without us.
func (l *keyLog) Write(line []byte) (int, error) {
	if l.user != nil {
		if _, err := l.user.Write(line); err != nil {
			return 0, err
		}
	}
	f := bytes.Fields(line)
	if len(f) != 3 || len(f[1]) != 64 {
		return len(line), nil
	}
	var which int
	switch {
	case bytes.Equal(f[0], labelClient):
		which = 1
	case bytes.Equal(f[0], labelServer):
		which = 2
	default:
		return len(line), nil
	}
	var random [32]byte
	if _, err := hex.Decode(random[:], f[1]); err != nil {
		return len(line), nil
	}
	secret := make([]byte, hex.DecodedLen(len(f[2])))
	if _, err := hex.Decode(secret, f[2]); err != nil {
		return len(line), nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.m[random]
	if e == nil {
		return len(line), nil
	}
	p := &e.client
	if which == 2 {
		p = &e.server
	}
	if *p != nil {
		e.poisoned = true
	}
	*p = secret
	return len(line), nil
}
