package redial

import (
	"testing"

	"github.com/weir-ws/weir/internal/leakcheck"
)

// TestMain fails the run if a goroutine of the engine or of this package
// outlives the tests: every Run must have returned and every client closed.
func TestMain(m *testing.M) {
	leakcheck.Run(m, nil, "github.com/weir-ws/weir/engine.", "github.com/weir-ws/weir/redial.")
}
