package wsconn

import "github.com/weir-ws/weir/frame"

// Trace is engine.Trace over this package's Conn (the engine converts one to
// the other).
type Trace struct {
	FrameIn  func(c *Conn, h frame.Header)
	FrameOut func(c *Conn, h frame.Header)
}
