//go:build !linux && !darwin && !freebsd

package poller_test

import (
	"errors"
	"testing"

	"github.com/weir-ws/weir/poller"
)

func TestUnsupported(t *testing.T) {
	t.Parallel()
	p, err := poller.New()
	if p != nil || !errors.Is(err, poller.ErrUnsupported) || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("New() = %v, %v; want nil, ErrUnsupported", p, err)
	}
}
