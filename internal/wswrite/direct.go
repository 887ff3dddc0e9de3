package wswrite

import "github.com/weir-ws/weir/internal/prepared"

// PreparedDirect is the first half of Prepared for a send the caller makes
// itself, batched with other connections' (engine's io_uring fan-out): when
// the frame would go straight to the socket (a server connection on a loop,
// nothing queued nor owed nor held, no compression, no trace), it admits the
// frame, counts it and returns its bytes; the caller then sends them without
// letting go of its lock and reports with PreparedSent. (nil, nil): not such
// a write, use Prepared. An error is the policy's refusal (nothing to send).
func (w *Writer) PreparedDirect(s Sink, pm *prepared.Message) ([]byte, error) {
	env := s.Env()
	if env.Client || env.Goroutine || env.Limits.Trace || w.flags&fFragOpen != 0 || w.pongs != nil ||
		w.out.Len() != 0 || w.ShouldCompress(&env, len(pm.Payload())) {
		return nil, nil
	}
	f := pm.Frame()
	if err := w.Admit(s, &env, len(f)); err != nil {
		return nil, err
	}
	w.frames.Add(1)
	return f, nil
}

// PreparedSent ends a PreparedDirect: the socket took n bytes of f, or failed
// with err. What it left is queued as writeRaw queues it.
func (w *Writer) PreparedSent(s Sink, f []byte, n int, err error) error {
	lim := s.Env().Limits
	err = w.tried(s, lim, nil, f, n, err)
	w.unreserve(lim)
	return err
}
