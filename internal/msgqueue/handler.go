package msgqueue

import "github.com/weir-ws/weir/frame"

// Handler is a Queue as the event handler of a connection of type C (the
// engine's *Conn, whose Handler interface it satisfies): every message is
// queued, the connection's close ends the queue, and the other events are
// let be (pongs answered, frames and drains ignored).
type Handler[C Reader] struct {
	*Queue
	// closed makes the error Pop returns once the connection closed with
	// code and reason (the engine's *CloseError).
	closed func(code frame.StatusCode, reason string) error
	// refused ends a connection whose message the budget refused.
	refused func(c C)
}

// NewHandler returns a Handler over NewBudget(max, b) whose queue ends, when
// the connection closes, with closed's error for its close status, or with
// the error that cut a connection that ended without a close frame (1006).
// A message the budget refuses is not queued: refused is called to end the
// connection (the engine closes it with 1013).
func NewHandler[C Reader](max int, b Budget, closed func(code frame.StatusCode, reason string) error, refused func(c C)) *Handler[C] {
	return &Handler[C]{Queue: NewBudget(max, b), closed: closed, refused: refused}
}

func (h *Handler[C]) OnOpen(C) { h.Open() }

func (h *Handler[C]) OnMessage(c C, op frame.Opcode, p []byte) {
	if !h.Push(c, op, p) {
		h.refused(c)
	}
}
func (h *Handler[C]) OnFrame(C, frame.Header, []byte) {}
func (h *Handler[C]) OnPing(C, []byte) bool           { return true }
func (h *Handler[C]) OnPong(C, []byte)                {}
func (h *Handler[C]) OnDrain(C)                       {}

// OnClose ends the queue: Pop returns the close status once the messages
// queued before it are taken, or the error of an abnormal end.
func (h *Handler[C]) OnClose(_ C, code frame.StatusCode, reason string, err error) {
	if err == nil || code != frame.StatusAbnormalClosure {
		err = h.closed(code, reason)
	}
	h.End(err)
}
