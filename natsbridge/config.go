package natsbridge

import (
	"time"

	"github.com/nats-io/nats.go"
)

// Config configures a Bridge. The zero value connects to nats.DefaultURL with
// the defaults below.
type Config struct {
	// URL is one NATS server URL or several separated by commas; give every
	// server of the cluster so that the bridge can reconnect to another one
	// when its server goes away (it also learns the others from the server).
	// Default: nats.DefaultURL (nats://127.0.0.1:4222).
	URL string
	// Prefix is the first token of every subject: topic t travels on subject
	// Prefix + "." + t, so that weir's traffic has its own subject space (and
	// NATS permissions can be given for "weir.>"). Default: "weir".
	Prefix string
	// Name names the NATS connection (seen in the server's connz). Default:
	// "weir".
	Name string
	// MaxMessage caps a bridged payload in bytes, both ways: a larger local
	// publish is refused with ErrTooLarge and a larger message from NATS is
	// dropped and counted (Stats.Oversized). Default: the server's
	// max_payload less the one envelope byte (1 MiB - 1 with the server's
	// default); the server refuses anything above its max_payload anyway.
	MaxMessage int
	// SendQueue and SendQueueBytes bound the publishes waiting for the
	// sender goroutine; past either, Publish refuses with ErrQueueFull rather
	// than block the publisher. Defaults: 1024 messages, 16 MiB.
	SendQueue      int
	SendQueueBytes int
	// DeliverQueue is the number of messages from NATS waiting for deliver;
	// past it nats.go drops them (Stats.SlowConsumer). At most DeliverQueue ×
	// the server's max_payload bytes wait. Default: 512.
	DeliverQueue int
	// ReconnectWait is the pause before retrying a server that was just
	// tried (moving on to another server of URL is immediate). Default:
	// 250 ms.
	ReconnectWait time.Duration
	// MaxReconnects is the number of reconnect attempts per server before the
	// bridge gives up and closes its connection. Default (0): retry forever.
	MaxReconnects int
	// ReconnectBuffer bounds the bytes that nats.go keeps of publishes made
	// while disconnected, sent after it reconnects; past it a publish is
	// dropped and counted (Stats.SendDropped). Default: 8 MiB.
	ReconnectBuffer int
	// CloseTimeout bounds Close: it waits this long for the publishes
	// already queued to be handed to nats.go and flushed to the server, then
	// cuts the connection (closes the socket it dialed under nats.go, so
	// that a write stuck on a server that stopped reading fails at once
	// rather than after nats.go's FlusherTimeout, a minute by default) and
	// returns ErrCloseTimeout. Default: 2 s. (A connection that cannot be
	// cut that way, from nats.InProcessServer or a CustomDialer whose
	// connections' Close does not end a blocked Write, leaves Close waiting
	// for nats.go.)
	CloseTimeout time.Duration
	// OnError, if not nil, is told of errors that no call returns: a failed
	// upstream subscription, NATS asynchronous errors (slow consumer,
	// permissions), a disconnect's cause. It must not block.
	OnError func(error)
	// Options are applied to the NATS connection after the bridge's own, so
	// they may add TLS, credentials or override any of the above. An option
	// that replaces one of the handlers the bridge sets (disconnect,
	// reconnect, closed, error) turns off the counters it feeds.
	Options []nats.Option
}

func (c *Config) fill() {
	if c.URL == "" {
		c.URL = nats.DefaultURL
	}
	if c.Prefix == "" {
		c.Prefix = "weir"
	}
	if c.Name == "" {
		c.Name = "weir"
	}
	if c.SendQueue <= 0 {
		c.SendQueue = 1024
	}
	if c.SendQueueBytes <= 0 {
		c.SendQueueBytes = 16 << 20
	}
	if c.DeliverQueue <= 0 {
		c.DeliverQueue = 512
	}
	if c.ReconnectWait <= 0 {
		c.ReconnectWait = 250 * time.Millisecond
	}
	if c.MaxReconnects == 0 {
		c.MaxReconnects = -1
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = 2 * time.Second
	}
	if c.ReconnectBuffer <= 0 {
		c.ReconnectBuffer = 8 << 20
	}
}
