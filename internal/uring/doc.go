// Package uring sends one buffer to many sockets with one system call: a
// minimal io_uring (Linux 5.6+) that queues a non-blocking IORING_OP_SEND per
// socket, submits the batch with one io_uring_enter and reaps every
// completion before it returns.
//
// Why: in a fan-out every receiver costs one write(2)/writev(2), and on a
// virtualised host the system call itself (entry, exit, the runtime's
// entersyscall and the scheduler churn it brings) is a large part of each
// delivery's CPU; bench/results/pubsub16-2026-12-06.md measured about half
// the CPU per 128-byte send to 10,000 loopback sockets with one enter per
// batch against one writev per socket.
//
// Contract:
//
//   - A Ring belongs to one goroutine at a time (Get/Put hand it over); it is
//     not safe for concurrent use.
//   - Send returns only when every queued send has completed: the kernel
//     keeps no reference to the buffers nor to the fd numbers afterwards, so
//     the caller may hold each fd's owner lock around the call and release it
//     after (an fd is resolved when the batch is submitted, under that lock).
//   - Every send is MSG_DONTWAIT and every fd given to Add must be O_NONBLOCK
//     (as every socket on weir's loops is): without them io_uring may wait for
//     room (it arms a poll and sends when the socket drains), and a receiver
//     that never reads would hold Send, and the fan-out, for good. With both,
//     a full socket gives a short count or EAGAIN, never a wait (TestSend);
//     results are what send(2) would return (n >= 0, or a negative errno).
//   - Get returns nil where io_uring is missing or refused (other systems,
//     old kernels, a seccomp filter, kernel.io_uring_disabled): the caller
//     then writes with its ordinary system calls.
package uring
