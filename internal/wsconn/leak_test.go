package wsconn

import (
	"testing"

	"github.com/weir-ws/weir/internal/leakcheck"
)

// TestMain fails the run if a goroutine of this package outlives the tests
// (the machine's own goroutines are exercised, and checked, by engine's).
func TestMain(m *testing.M) {
	leakcheck.Run(m, nil, "github.com/weir-ws/weir/internal/wsconn.")
}
