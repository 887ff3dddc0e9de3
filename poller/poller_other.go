//go:build !linux && !darwin && !freebsd

package poller

// Poller is not available on this platform: New returns ErrUnsupported, and
// the engine serves connections with a goroutine each instead.
type Poller struct{}

// New returns ErrUnsupported: this platform has neither epoll nor kqueue.
func New() (*Poller, error) { return nil, ErrUnsupported }

// Add returns ErrUnsupported.
func (p *Poller) Add(fd int, tok uint32, in Interest) error { return ErrUnsupported }

// Modify returns ErrUnsupported.
func (p *Poller) Modify(fd int, tok uint32, in Interest) error { return ErrUnsupported }

// Remove returns ErrUnsupported.
func (p *Poller) Remove(fd int) error { return ErrUnsupported }

// Wait returns ErrUnsupported.
func (p *Poller) Wait(events []Event, timeoutMsec int) (int, error) { return 0, ErrUnsupported }

// Wake returns ErrUnsupported.
func (p *Poller) Wake() error { return ErrUnsupported }

// Close returns ErrUnsupported.
func (p *Poller) Close() error { return ErrUnsupported }

// ParkInRuntime reports false.
func (p *Poller) ParkInRuntime() bool { return false }
