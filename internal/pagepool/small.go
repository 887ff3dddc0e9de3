package pagepool

import "unsafe"

// Classes below a page carve several buffers from each page, so a buffer
// alone can never be given back to the kernel; a page can, once every buffer
// in it is free. Each such class counts the buffers in use in every page it
// has handed buffers from (used) and how many of those pages have none in use
// (empty): trim gives the empty pages back when larger warm buffers are not
// enough to keep in use + warm within the peak.

// pageOf is the start of the page holding ptr.
func pageOf(ptr unsafe.Pointer) unsafe.Pointer {
	return unsafe.Add(ptr, -int(uintptr(ptr)&(pageSize-1)))
}

// tookSmall records that the buffer at ptr, of a class below a page, is in
// use (under c.mu).
func (c *class) tookSmall(ptr unsafe.Pointer) {
	pg := pageOf(ptr)
	n, ok := c.used[pg]
	if ok && n == 0 {
		c.empty--
	}
	if c.used == nil {
		c.used = make(map[unsafe.Pointer]int32)
	}
	c.used[pg] = n + 1
}

// gaveSmall records that the buffer at ptr is free again (under c.mu).
func (c *class) gaveSmall(ptr unsafe.Pointer) {
	pg := pageOf(ptr)
	n := c.used[pg] - 1
	c.used[pg] = n
	if n == 0 {
		c.empty++
	}
}

// trimSmall gives back the empty pages of class s (below a page), and with
// them the warm buffers in them, and returns the warm bytes that left. Under
// c.mu throughout, so that no Get hands out a buffer of a page being given
// back: the pages are released before their buffers are listed cold.
func (p *Pool) trimSmall(s int) int64 {
	c := &p.classes[s]
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.empty == 0 {
		return 0
	}
	for pg, n := range c.used {
		if n == 0 {
			release(unsafe.Slice((*byte)(pg), pageSize))
			delete(c.used, pg)
		}
	}
	c.empty = 0
	kept := c.warm[:0]
	var freed int64
	for _, ptr := range c.warm {
		if _, ok := c.used[pageOf(ptr)]; ok {
			kept = append(kept, ptr)
			continue
		}
		c.cold = append(c.cold, ptr)
		freed += 1 << s
	}
	clear(c.warm[len(kept):])
	c.warm = kept
	p.warm.Add(-freed)
	return freed
}
