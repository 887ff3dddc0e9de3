// Package msgqueue is the queue behind engine's blocking reads
// (Conn.ReadMessage): an event-driven connection pushes each message into it
// from its worker, and a program's goroutine pops them one at a time.
//
// # Contract
//
//   - Bounded: when Max messages, or MaxBytes, are queued the connection's
//     reading is paused (Reader.PauseRead) before the waiting reader is
//     woken, and a Pop that leaves fewer than Max/2+1 messages and under
//     MaxBytes/2 resumes it, so a slow reader pushes back through TCP instead
//     of growing memory. Each message is a copy, owned by
//     whoever pops it. Across queues, a Budget (NewBudget) is charged for
//     the copies from Push until Pop or End; a copy it refuses is not
//     queued (Push reports false; a Handler calls its refused func).
//   - Pop blocks until a message, the end (the error given to End) or ctx's
//     end; when ctx ends first no message is taken.
//   - Safe for one pusher (the connection's worker) and any number of
//     poppers.
//   - A Handler is a Queue as the connection's event handler (the engine's
//     Handler interface, for its connection type): messages are pushed,
//     pings let through, and the close ends the queue with the close status
//     as the engine's error, or with the error of an abnormal end (1006).
package msgqueue
