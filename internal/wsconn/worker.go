package wsconn

import "github.com/weir-ws/weir/upgrade"

// worker is the context connection work runs in (internal/reactor: under
// DispatchPool one of Config.Workers goroutines or a loop's runner, under
// DispatchInline the loop itself), the key of a connection's read side. It
// owns the read buffer every connection it serves reads into, so an idle
// connection owns none.
type worker struct {
	buf []byte           // Config.ReadBufferSize
	req *upgrade.Request // reusable handshake request view
	rsp []byte           // scratch for handshake responses
	// kept is the handshake's kept bytes while in internal/opening for a
	// connection without read extras, nil between calls (Conn.kept).
	kept []byte
}

func NewWorker(size int) *worker {
	return &worker{buf: make([]byte, size), req: upgrade.NewRequest(), rsp: make([]byte, 0, 1024)}
}
