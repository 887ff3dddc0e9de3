package deflate

import (
	"math/rand"
	"os"
	"strconv"
)

// long reports whether the long size sweeps run: WEIR_LONG=1, as set by
// `make test-long`. `make test` (and a plain go test) leaves them out; what
// they add is size, not new paths (each is named where it is skipped).
func long() bool { return os.Getenv("WEIR_LONG") == "1" }

var testWords = []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa"}

// jsonText returns n bytes of JSON-like records with repeated keys and varying
// values, the typical WebSocket payload; the same seed gives the same bytes.
func jsonText(seed int64, n int) []byte {
	r := rand.New(rand.NewSource(seed))
	b := make([]byte, 0, n+256)
	b = append(b, '[')
	for len(b) < n {
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, r.Int63n(1e9), 10)
		b = append(b, `,"user":"`...)
		b = append(b, testWords[r.Intn(len(testWords))]...)
		b = strconv.AppendInt(b, int64(r.Intn(1000)), 10)
		b = append(b, `","score":`...)
		b = strconv.AppendFloat(b, r.Float64()*100, 'f', 3, 64)
		b = append(b, `,"active":`...)
		b = strconv.AppendBool(b, r.Intn(2) == 0)
		b = append(b, `,"text":"`...)
		for i := 0; i < 5; i++ {
			b = append(b, testWords[r.Intn(len(testWords))]...)
			b = append(b, ' ')
		}
		b = append(b, `"},`...)
	}
	return b[:n]
}

// randomBytes returns n incompressible bytes.
func randomBytes(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// splitEvery cuts b into pieces of at most n bytes, as frames of a message.
func splitEvery(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > n {
		out = append(out, b[:n])
		b = b[n:]
	}
	return append(out, b)
}

// concat joins frame payloads as the engine does before Decompress.
func concat(parts [][]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
