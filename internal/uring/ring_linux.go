package uring

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// entries is the size of a ring: the most sends one Send submits.
const entries = 256

// Offsets in io_uring_params and the ring layout (include/uapi/linux/io_uring.h).
const (
	paramsSize   = 120
	offSQ        = 40 // struct io_sqring_offsets in io_uring_params
	offCQ        = 80 // struct io_cqring_offsets
	offSQRing    = 0
	offCQRing    = 0x8000000
	offSQEs      = 0x10000000
	sqeSize      = 64
	cqeSize      = 16
	opSend       = 26     // IORING_OP_SEND
	enterGetEvts = 1      // IORING_ENTER_GETEVENTS
	featRWCurPos = 1 << 3 // IORING_FEAT_RW_CUR_POS: Linux 5.6, with IORING_OP_SEND
)

// Ring is one io_uring with room for Cap sends per Send.
type Ring struct {
	fd                     int
	sq, cq, sqes           []byte
	sqHead, sqTail, sqMask *uint32
	sqArray                []uint32
	cqHead, cqTail, cqMask *uint32
	cqes                   []byte
	n                      int      // sends added since the last Send
	bufs                   [][]byte // their buffers, kept reachable until Send returns
}

// maxRings bounds the rings made: at most this many fan-outs batch at once,
// the others write with their own system calls. Rings are never closed, so
// there is no setup-and-teardown churn under many concurrent publishers; each
// holds about 30 KiB of ring memory and an fd.
const maxRings = 16

var (
	disabled atomic.Bool  // setup failed once: io_uring is not to be had here
	made     atomic.Int32 // rings made (at most maxRings)
	free     = make(chan *Ring, maxRings)
	// retired keeps failed rings, their buffers included, reachable forever.
	retired struct {
		sync.Mutex
		rings []*Ring
	}
)

// Get returns a ring to use, from the free list or new, or nil where
// io_uring cannot be used or maxRings are in use.
func Get() *Ring {
	select {
	case r := <-free:
		return r
	default:
	}
	if disabled.Load() {
		return nil
	}
	if made.Add(1) > maxRings {
		made.Add(-1)
		return nil
	}
	r, err := newRing()
	if err != nil {
		made.Add(-1)
		switch err {
		case unix.ENOSYS, unix.EPERM, unix.EACCES, unix.EINVAL:
			disabled.Store(true) // not to be had here; EMFILE, ENOMEM and the like pass
		}
		return nil
	}
	return r
}

// Put gives r back for the next Get.
func Put(r *Ring) {
	if r != nil {
		free <- r // never blocks: at most maxRings exist
	}
}

func newRing() (*Ring, error) {
	var p [paramsSize]byte
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, entries, uintptr(unsafe.Pointer(&p[0])), 0)
	if e != 0 {
		return nil, e
	}
	u32 := func(off int) uint32 { return *(*uint32)(unsafe.Pointer(&p[off])) }
	if u32(20)&featRWCurPos == 0 {
		// Before Linux 5.6 (the first kernel with this feature bit) there is
		// no IORING_OP_SEND: every send would fail with EINVAL.
		unix.Close(int(fd))
		return nil, unix.ENOSYS
	}
	sqEntries, cqEntries := u32(0), u32(4)
	r := &Ring{fd: int(fd)}
	var err error
	mm := func(off int64, size int) []byte {
		if err != nil {
			return nil
		}
		var b []byte
		b, err = unix.Mmap(r.fd, off, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
		return b
	}
	r.sq = mm(offSQRing, int(u32(offSQ+24))+int(sqEntries)*4)
	r.cq = mm(offCQRing, int(u32(offCQ+20))+int(cqEntries)*cqeSize)
	r.sqes = mm(offSQEs, int(sqEntries)*sqeSize)
	if err != nil {
		r.close()
		return nil, err
	}
	at := func(b []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }
	r.sqHead, r.sqTail, r.sqMask = at(r.sq, u32(offSQ)), at(r.sq, u32(offSQ+4)), at(r.sq, u32(offSQ+8))
	r.sqArray = unsafe.Slice((*uint32)(unsafe.Pointer(&r.sq[u32(offSQ+24)])), sqEntries)
	r.cqHead, r.cqTail, r.cqMask = at(r.cq, u32(offCQ)), at(r.cq, u32(offCQ+4)), at(r.cq, u32(offCQ+8))
	r.cqes = r.cq[u32(offCQ+20):]
	r.bufs = make([][]byte, 0, sqEntries)
	return r, nil
}

func (r *Ring) close() {
	for _, b := range [][]byte{r.sq, r.cq, r.sqes} {
		if b != nil {
			unix.Munmap(b)
		}
	}
	unix.Close(r.fd)
}

// Cap is the most sends one Send takes.
func (r *Ring) Cap() int { return len(r.sqArray) }

// Add queues a send of p to fd (len(p) > 0) for the next Send; at most Cap
// between two Sends.
func (r *Ring) Add(fd int, p []byte) {
	tail := atomic.LoadUint32(r.sqTail) + uint32(r.n)
	i := tail & *r.sqMask
	s := r.sqes[i*sqeSize : (i+1)*sqeSize]
	clear(s)
	s[0] = opSend
	*(*int32)(unsafe.Pointer(&s[4])) = int32(fd)
	*(*uint64)(unsafe.Pointer(&s[16])) = uint64(uintptr(unsafe.Pointer(&p[0])))
	*(*uint32)(unsafe.Pointer(&s[24])) = uint32(len(p))
	*(*uint32)(unsafe.Pointer(&s[28])) = unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL
	*(*uint64)(unsafe.Pointer(&s[32])) = uint64(r.n) // user_data: the send's index
	r.sqArray[i] = i
	r.bufs = append(r.bufs, p)
	r.n++
}

// Unknown is the result of a send the ring could not report (Send failed):
// it may or may not have gone out, in whole or in part.
const Unknown int32 = math.MinInt32

// Send submits the sends added since the last Send and waits for all of
// them: res[i] (len(res) >= the number added) is the i-th one's result, bytes
// sent or a negative errno. An error means the ring itself failed (say, a
// seccomp filter that lets io_uring_setup through but not io_uring_enter):
// the sends never submitted are 0 (not sent), those submitted and not
// reported Unknown; the ring is retired (its buffers stay reachable for
// good, since the kernel may still read them), no ring is made again, and
// the caller must not Put it.
func (r *Ring) Send(res []int32) error {
	n := r.n
	if n == 0 {
		return nil
	}
	for i := range n {
		res[i] = Unknown
	}
	atomic.StoreUint32(r.sqTail, atomic.LoadUint32(r.sqTail)+uint32(n))
	r.n = 0
	seen, submitted := 0, 0
	var err error
	for seen < n {
		toSubmit := n - submitted
		k, _, e := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit), uintptr(n-seen), enterGetEvts, 0, 0)
		if e != 0 && e != unix.EINTR && e != unix.EAGAIN && e != unix.EBUSY {
			err = e
			// The kernel takes the queue in order: the sends past those
			// submitted never went out (0 bytes, no error: the caller
			// queues them for its own system calls).
			for i := submitted; i < n; i++ {
				res[i] = 0
			}
			break
		}
		if e == 0 {
			submitted += int(k)
		}
		head, tail := atomic.LoadUint32(r.cqHead), atomic.LoadUint32(r.cqTail)
		for ; head != tail; head++ {
			c := r.cqes[(head&*r.cqMask)*cqeSize:]
			i := *(*uint64)(unsafe.Pointer(&c[0]))
			if i < uint64(n) {
				res[i] = *(*int32)(unsafe.Pointer(&c[8]))
			}
			seen++
		}
		atomic.StoreUint32(r.cqHead, head)
	}
	if err != nil {
		disabled.Store(true)
		retired.Lock()
		retired.rings = append(retired.rings, r)
		retired.Unlock()
		return err
	}
	runtime.KeepAlive(r.bufs)
	clear(r.bufs)
	r.bufs = r.bufs[:0]
	return err
}

// Outcome reads a send's result as Write2 would report it: bytes taken, with
// a full socket (EAGAIN) or an interrupted send a short count and no error;
// ErrUnknown when the ring could not say.
func Outcome(res int32) (int, error) {
	switch {
	case res >= 0:
		return int(res), nil
	case res == Unknown:
		return 0, ErrUnknown
	case unix.Errno(-res) == unix.EAGAIN || unix.Errno(-res) == unix.EINTR:
		return 0, nil
	}
	return 0, unix.Errno(-res)
}
