package tlsrec

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestMoveKeysEveryPoint: a Writer whose KeyState moves (MoveKeys) before
// any one step of the drop script, AEAD kept or dropped, seals exactly the
// bytes of one that never moves (the sequence number and secret move with
// it: no nonce restarts), and where it was is cleared; a Reader moved
// before any record opens the stream whole.
func TestMoveKeysEveryPoint(t *testing.T) {
	t.Parallel()
	for _, suite := range suites {
		ref, want := runScript(t, suite, nil, false)
		for i := 0; i <= len(dropScript); i++ {
			for _, drop := range []bool{false, true} {
				w, err := NewWriter(testKeys(suite))
				if err != nil {
					t.Fatal(err)
				}
				w.SetAutoUpdate(3)
				var stream []byte
				for j, op := range dropScript {
					if j == i {
						moveWriter(t, w, drop)
					}
					if op.ku {
						stream, err = w.AppendKeyUpdate(stream, op.req)
					} else {
						stream, err = w.AppendSeal(stream, bytes.Repeat([]byte{byte(j + 1)}, op.n))
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				if i == len(dropScript) {
					moveWriter(t, w, drop)
				}
				if stream, err = w.AppendCloseNotify(stream); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(stream, ref) {
					t.Fatalf("suite %#x: a move before step %d (drop %v) changes the records", suite, i, drop)
				}
			}
		}
		var recs [][]byte
		for s := ref; len(s) > 0; {
			n := HeaderLen + (int(s[3])<<8 | int(s[4]))
			recs, s = append(recs, s[:n]), s[n:]
		}
		for i := range recs {
			_, r := pair(t, suite, ReaderOptions{})
			var data []byte
			var err error
			for j, rec := range recs {
				if j == i {
					old := r.k.KeyState
					r.MoveKeys(new(KeyState))
					if *old != (KeyState{}) {
						t.Fatal("the Reader's old KeyState not cleared")
					}
				}
				c := append([]byte(nil), rec...)
				var res Result
				res, err = r.Decrypt(c)
				data = append(data, c[:res.Plain]...)
				if err != nil {
					break
				}
			}
			if !errors.Is(err, io.EOF) || !bytes.Equal(data, want) {
				t.Fatalf("suite %#x: move before record %d: read %d of %d bytes, err %v", suite, i, len(data), len(want), err)
			}
		}
	}
}

func moveWriter(t *testing.T, w *Writer, drop bool) {
	t.Helper()
	if drop {
		w.Drop()
	}
	old, dst := w.k.KeyState, new(KeyState)
	w.MoveKeys(dst)
	if *old != (KeyState{}) || w.k.KeyState != dst {
		t.Fatal("MoveKeys: old KeyState not cleared or not moved")
	}
	w.MoveKeys(dst) // to where it is: nothing changes
	if *dst == (KeyState{}) {
		t.Fatal("MoveKeys to its own KeyState cleared it")
	}
}
