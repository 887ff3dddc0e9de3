package pubsub

// reconcile tells the bridge whether this node has subscribers of name, when
// that changed. The subscriber sets change under their own locks, and two
// changes of one name can race to report (a first subscribe and a last
// unsubscribe): each change calls reconcile after it is made, and reconcile
// reads the state rather than trusting its caller, under imu, so the last
// call to run always leaves the bridge with the truth. Bridge.Interest runs
// under imu and no index lock: a bridge may deliver from inside it.
func (h *Hub) reconcile(name string, wild bool) {
	b := h.cfg.Bridge
	if b == nil || h.closed.Load() {
		return
	}
	h.imu.Lock()
	defer h.imu.Unlock()
	want := h.has(name, wild)
	_, told := h.told[name]
	if want == told {
		return
	}
	if want {
		h.told[name] = struct{}{}
	} else {
		delete(h.told, name)
	}
	b.Interest(name, want)
}

// has reports whether name has local subscribers now.
func (h *Hub) has(name string, wild bool) bool {
	if wild {
		h.wild.mu.RLock()
		defer h.wild.mu.RUnlock()
		_, ok := h.wild.byName[name]
		return ok
	}
	s, _ := h.exact.lookup(name)
	return s != nil
}
