package upgrade

// check runs the opening-handshake checks of RFC 6455 §4.2.1 in a fixed order and
// returns the first that fails, so each fault has one answer:
// method 405, HTTP version 400, Host 400, a body 400, no Upgrade field 426,
// Upgrade without websocket 400, Connection 400, key 400, version 426, then the
// syntax of the subprotocol and extension offers 400. On success r.version and
// the offers are set.
func (r *Request) check() *CheckError {
	b := &r.hb
	if r.hb.str(r.method) != "GET" {
		return ErrBadMethod
	}
	if r.major != 1 || r.minor < 1 {
		return ErrBadProto
	}
	// RFC 9112 §3.2: an HTTP/1.1 request without exactly one valid Host is
	// 400, even when an absolute-form target (§3.2.2) names the host.
	if b.count[hHost] != 1 || !validHost(b.get(hHost)) {
		return ErrBadHost
	}
	// A GET with a body would leave its bytes in front of the first frame;
	// refusing it also closes the door on request smuggling.
	// The scanner made every Content-Length line agree.
	if b.count[hTransferEncoding] != 0 || b.count[hContentLength] != 0 && b.get(hContentLength) != "0" {
		return ErrRequestBody
	}
	// No Upgrade field at all is a plain HTTP request for a resource that
	// speaks only WebSocket: 426 names the protocol to switch to (RFC 7231
	// §6.5.15, RFC 6455 §4.4). An Upgrade to something else is a malformed
	// handshake (§4.2.1 item 3): 400.
	if b.count[hUpgrade] == 0 {
		return ErrUpgradeRequired
	}
	if !b.anyHasToken(hUpgrade, "websocket") {
		return ErrBadUpgrade
	}
	if !b.anyHasToken(hConnection, "upgrade") {
		return ErrBadConnection
	}
	// §11.3.1: the key appears once.
	if b.count[hKey] != 1 || !validKey(b.get(hKey)) {
		return ErrBadKey
	}
	// §11.3.5: the version appears once in a request. A missing version is
	// answered like an unknown one, telling the client what we speak (§4.4).
	switch v := b.get(hVersion); {
	case b.count[hVersion] != 1:
		return ErrBadVersion
	case v == "13":
		r.version = 13
	case v == "8":
		r.version = 8
	default:
		return ErrBadVersion
	}
	if err := r.parseOffers(); err != nil {
		return err
	}
	return nil
}

// parseOffers fills r.protos and r.exts from every Sec-WebSocket-Protocol and
// Sec-WebSocket-Extensions line.
func (r *Request) parseOffers() *CheckError {
	b := &r.hb
	r.checkedProtos = true
	clear(r.protos)
	clear(r.exts)
	clear(r.params)
	r.protos, r.exts, r.params = r.protos[:0], r.exts[:0], r.params[:0]
	if b.first[hProtocol] >= 0 {
		for _, f := range b.fields[b.first[hProtocol]:] {
			if f.id != hProtocol {
				continue
			}
			var ok bool
			if r.protos, ok = appendSubprotocols(r.protos, b.str(f.value)); !ok {
				return ErrBadSubprotocols
			}
		}
	}
	if b.first[hExtensions] >= 0 {
		for _, f := range b.fields[b.first[hExtensions]:] {
			if f.id != hExtensions {
				continue
			}
			var err error
			if r.exts, r.params, err = appendExtensions(r.exts, r.params, b.str(f.value)); err != nil {
				return ErrBadExtensions
			}
		}
	}
	return nil
}

// validKey reports whether k is base64 of 16 bytes: 22 alphabet characters and
// "==" (RFC 6455 §4.1 step 7, §4.2.1 item 5).
func validKey(k string) bool {
	if len(k) != 24 || k[22] != '=' || k[23] != '=' {
		return false
	}
	for i := 0; i < 22; i++ {
		if class[k[i]]&cB64 == 0 {
			return false
		}
	}
	return true
}

// validHost checks the Host value: uri-host [":" port] (RFC 7230 §5.4), non-empty.
func validHost(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		if class[h[i]]&cHost == 0 {
			return false
		}
	}
	return true
}
