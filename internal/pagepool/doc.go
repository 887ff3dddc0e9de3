// Package pagepool hands out byte buffers that live outside the Go heap, in
// memory mapped from the kernel in slabs, and gives their pages back to the
// kernel when they are free.
//
// It exists for memory a server must bound exactly: the output queued for
// connections that are slow to read. On the Go heap such buffers cost about
// twice their size in RSS (the collector lets the heap grow to GOGC percent
// over what is live before it collects, and sync.Pool keeps freed buffers for
// a cycle), so a budget counted in live bytes is not a bound on the process's
// memory. Here a buffer's pages are resident only while it is in use or among
// the few kept warm for reuse, and warm buffers are kept only within the most
// the callers have held at once: the buffers in use and the warm ones
// together never pass that peak (Stats.Peak), so a caller that bounds what it
// holds (the engine's MaxTotalBuffered) bounds the pool's resident memory by
// the same figure, warm buffers included.
//
// Contract:
//   - Get(n) returns a slice of length n whose capacity is its size class (a
//     power of two from MinSize to MaxSize); contents are not zeroed. Above
//     MaxSize, or if the kernel refuses a mapping, Get returns a plain heap
//     slice, which Put then ignores.
//   - Put(b) takes back a slice that Get returned; nothing may use b, or any
//     slice of the same memory, afterwards. Put ignores slices it did not hand
//     out (heap slices, foreign memory), so it never releases memory it does
//     not own.
//   - Free buffers stay warm (resident, for reuse) up to KeepWarm bytes per
//     size class, and only while in use + warm is within the peak in use: a
//     Get that makes new memory resident past it gives warm buffers back to
//     the kernel first (largest first; below a page, the pages whose buffers
//     are all free). Concurrent Gets may pass the peak by the buffers they
//     take at once, and a page below a page's classes is resident from its
//     first buffer handed out (at most a page per class past the count).
//   - Memory is never unmapped, only advised away (MADV_DONTNEED): a stale
//     slice reads zeros or another owner's bytes, as with any buffer pool,
//     but never faults. The mapped address space grows to the largest amount
//     ever in use at once.
//   - Safe for concurrent use. Buffers hold no Go pointers and are not scanned
//     by the collector.
//
// On platforms without mmap every Get is a plain heap slice.
package pagepool
