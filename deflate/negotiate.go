package deflate

import (
	"fmt"
	"strconv"

	"github.com/weir-ws/weir/upgrade"
)

// Negotiator is the server side of the negotiation: an
// upgrade.ExtensionNegotiator for Upgrader.Extensions. It is immutable and
// safe for concurrent use by every handshake.
type Negotiator struct {
	s settings
}

var _ upgrade.ExtensionNegotiator = (*Negotiator)(nil)

// NewNegotiator returns a Negotiator applying opts (nil: defaults). Invalid
// fields count as zero; see Options.Validate.
func NewNegotiator(opts *Options) *Negotiator {
	return &Negotiator{s: opts.settings()}
}

// NegotiateExtensions accepts the first permessage-deflate offer it can
// honour and declines the others (RFC 7692 §5): an offer with an unknown,
// duplicate or malformed parameter is skipped, never an error. It appends the
// response element to dst and returns as accepted the Agreement (one byte, so
// nothing is allocated) for NewConn; with no acceptable offer it returns dst
// unchanged and a nil accepted. Offers of other extensions are ignored.
//
// Every valid offer is acceptable: weir's compressor can honour any
// server_max_window_bits from 8 to 15 (see the package documentation).
func (n *Negotiator) NegotiateExtensions(offers []upgrade.ExtensionOffer, dst []byte) ([]byte, any, error) {
	for _, o := range offers {
		if o.Name != ExtensionName {
			continue
		}
		offer, _, err := parseParams(o)
		if err != nil {
			continue // RFC 7692 §5: decline it, try the next one
		}
		resp, agreed := n.answer(offer)
		return AppendParams(dst, resp), agreed.Agreement(), nil
	}
	return dst, nil, nil
}

// answer computes the response to a valid offer and the agreement it makes,
// which can be tighter than what the response spells out: a window the client
// capped in its offer binds it whether or not the response repeats it.
func (n *Negotiator) answer(offer Params) (resp, agreed Params) {
	s := &n.s
	// §7.1.1.1: accepting an offer that has server_no_context_takeover means
	// answering with it; the server may also add it unasked.
	resp.ServerNoContextTakeover = offer.ServerNoContextTakeover || s.serverNoCtx
	// §7.1.1.2: the server may add client_no_context_takeover unasked. When the
	// client offered it, it announced it will not use takeover anyway, so
	// repeating it binds the client and lets the server drop its history.
	resp.ClientNoContextTakeover = offer.ClientNoContextTakeover || s.clientNoCtx

	// §7.1.2.1: an offered server_max_window_bits must be answered with the
	// same or a smaller value; the server may also add it unasked.
	sb := MaxWindowBits
	if offer.ServerMaxWindowBits != 0 {
		sb = offer.ServerMaxWindowBits
	}
	if s.serverBits != 0 && s.serverBits < sb {
		sb = s.serverBits
	}
	if offer.ServerMaxWindowBits != 0 || sb < MaxWindowBits {
		resp.ServerMaxWindowBits = sb
	}

	// §7.1.2.2: client_max_window_bits may be answered only when offered, with
	// no more than the offered value. 8 is sent as 9: zlib cannot produce a
	// raw stream with an 8-bit window and would fail or use 9 anyway.
	cb := MaxWindowBits
	if offer.ClientMaxWindowBits != 0 {
		cb = offer.ClientMaxWindowBits
		if want := max(s.clientBits, MinWindowBits+1); s.clientBits != 0 && want < cb {
			cb = want
		}
		if cb < MaxWindowBits {
			resp.ClientMaxWindowBits = cb
		}
	}

	agreed = resp
	agreed.ServerMaxWindowBits, agreed.ClientMaxWindowBits = sb, cb
	return resp, agreed
}

// Offer returns the client's permessage-deflate offer for opts (nil:
// defaults), to put in upgrade.ClientRequest.Extensions. It always offers
// client_max_window_bits, because weir's compressor honours any window the
// server picks; with ClientMaxWindowBits set the value caps it.
func (o *Options) Offer() upgrade.ExtensionOffer {
	s := o.settings()
	e := upgrade.ExtensionOffer{Name: ExtensionName}
	if s.serverNoCtx {
		e.Params = append(e.Params, upgrade.ExtensionParam{Name: paramServerNoContextTakeover})
	}
	if s.clientNoCtx {
		e.Params = append(e.Params, upgrade.ExtensionParam{Name: paramClientNoContextTakeover})
	}
	if s.serverBits != 0 {
		e.Params = append(e.Params, upgrade.ExtensionParam{Name: paramServerMaxWindowBits, Value: strconv.Itoa(s.serverBits)})
	}
	cb := upgrade.ExtensionParam{Name: paramClientMaxWindowBits}
	if s.clientBits != 0 {
		cb.Value = strconv.Itoa(s.clientBits)
	}
	e.Params = append(e.Params, cb)
	return e
}

// Accept checks the server's answer, the accepted extensions of
// upgrade.ClientResult, against the offer Offer made for the same opts, and
// returns the agreement for NewConn. ok is false when the server did not
// accept permessage-deflate (no compression, not an error). The error wraps
// ErrBadResponse when the answer breaks RFC 7692 §7.1; the client must then
// fail the connection:
//
//   - permessage-deflate answered twice, or with an unknown, duplicate or
//     malformed parameter;
//   - client_max_window_bits without a value, or above the offered value;
//   - server_max_window_bits above the offered value, or missing although
//     offered (§7.1.2.1: a server accepts it by answering it);
//   - server_no_context_takeover missing although offered (§7.1.1.1).
//
// server_no_context_takeover and client_no_context_takeover are allowed
// unasked; a client that offered client_no_context_takeover keeps to it even
// if the answer omits it.
func (o *Options) Accept(resp []upgrade.ExtensionOffer) (p Params, ok bool, err error) {
	s := o.settings()
	var found bool
	for _, e := range resp {
		if e.Name != ExtensionName {
			continue
		}
		if found {
			return Params{}, false, fmt.Errorf("%w: %s answered twice", ErrBadResponse, ExtensionName)
		}
		found = true
		var bare bool
		if p, bare, err = parseParams(e); err != nil {
			return Params{}, false, fmt.Errorf("%w: %w", ErrBadResponse, err)
		}
		switch {
		case bare:
			return Params{}, false, fmt.Errorf("%w: %s without a value", ErrBadResponse, paramClientMaxWindowBits)
		case s.serverNoCtx && !p.ServerNoContextTakeover:
			return Params{}, false, fmt.Errorf("%w: %s offered but not confirmed", ErrBadResponse, paramServerNoContextTakeover)
		case s.serverBits != 0 && p.ServerMaxWindowBits == 0:
			return Params{}, false, fmt.Errorf("%w: %s offered but not confirmed", ErrBadResponse, paramServerMaxWindowBits)
		case s.serverBits != 0 && p.ServerMaxWindowBits > s.serverBits:
			return Params{}, false, fmt.Errorf("%w: %s=%d above the offered %d", ErrBadResponse, paramServerMaxWindowBits, p.ServerMaxWindowBits, s.serverBits)
		case s.clientBits != 0 && p.ClientMaxWindowBits > s.clientBits:
			return Params{}, false, fmt.Errorf("%w: %s=%d above the offered %d", ErrBadResponse, paramClientMaxWindowBits, p.ClientMaxWindowBits, s.clientBits)
		}
	}
	if !found {
		return Params{}, false, nil
	}
	// The offer's own promises bind the client whatever the answer says
	// (§7.1.1.2, §7.1.2.2).
	if s.clientNoCtx {
		p.ClientNoContextTakeover = true
	}
	if p.ClientMaxWindowBits == 0 {
		p.ClientMaxWindowBits = s.clientBits
	}
	p.ServerMaxWindowBits = p.ServerWindowBits()
	p.ClientMaxWindowBits = p.ClientWindowBits()
	return p, true, nil
}
