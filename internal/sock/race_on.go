//go:build race

package sock

import (
	"runtime"
	"unsafe"
)

// raceWrote tells the race detector that a raw read(2) wrote b.
func raceWrote(b []byte) {
	if len(b) > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&b[0]), len(b))
	}
}
