package pubsub

import (
	"errors"

	"github.com/weir-ws/weir/engine"
)

// Config holds a Hub's options; the zero value of each field means its
// default, and a nil *Config means all defaults.
type Config struct {
	// Bridge, when set, carries publishes to and from other nodes (see
	// Bridge). The Hub starts it in New and closes it in Close.
	Bridge Bridge
	// MaxTopicLen bounds a topic or pattern name in bytes. Default 256.
	MaxTopicLen int
	// MaxTokens bounds the dot-separated tokens of a name, and so the depth
	// of the pattern tree a publish walks. Default 16.
	MaxTokens int
	// MaxTopicsPerConn bounds one connection's subscriptions (names, patterns
	// included): past it Subscribe returns ErrTooManyTopics. A topic
	// subscription holds about 410 bytes plus its name (BenchmarkSubscribe);
	// a pattern also holds the nodes of its path in the pattern tree that no
	// other pattern shares, up to about 4.6 KiB for one of 16 tokens
	// (BenchmarkSubscribeDeepPattern). So the defaults bound what a client
	// that picks its own names can pin at about 170 KiB with topics and
	// 1.2 MiB with deep patterns (fewer MaxTokens, fewer nodes). Default 256;
	// negative: no bound.
	MaxTopicsPerConn int
	// ParallelFanout is the number of receivers from which one publish is
	// written by several goroutines (up to GOMAXPROCS), each taking a
	// contiguous part of the list; below it the publishing goroutine writes
	// to all. Default 2048; negative: never split.
	ParallelFanout int
}

func (c *Config) withDefaults() Config {
	var d Config
	if c != nil {
		d = *c
	}
	if d.MaxTopicLen <= 0 {
		d.MaxTopicLen = 256
	}
	if d.MaxTokens <= 0 {
		d.MaxTokens = 16
	}
	if d.MaxTopicsPerConn == 0 {
		d.MaxTopicsPerConn = 256
	}
	if d.ParallelFanout == 0 {
		d.ParallelFanout = 2048
	}
	return d
}

// Errors returned by Hub methods (errors.Is).
var (
	// ErrInvalidTopic: an empty name, an empty token ("a..b", ".a", "a."),
	// a space or control byte, a ">" that is not the last token, or a name
	// over MaxTopicLen bytes or MaxTokens tokens.
	ErrInvalidTopic = errors.New("pubsub: invalid topic")
	// ErrWildcardPublish: a publish to a name with a "*" or ">" token; only
	// subscriptions may be patterns.
	ErrWildcardPublish = errors.New("pubsub: publish to a wildcard pattern")
	// ErrTooManyTopics: the connection has MaxTopicsPerConn subscriptions.
	ErrTooManyTopics = errors.New("pubsub: too many subscriptions on the connection")
	// ErrHubClosed: the Hub was closed.
	ErrHubClosed = errors.New("pubsub: hub closed")
	// ErrOpcode: a publish whose opcode is not text or binary.
	ErrOpcode = errors.New("pubsub: opcode is not text or binary")
	// ErrInvalidUTF8: a text publish whose payload is not valid UTF-8; every
	// subscriber would fail its connection with 1007 (RFC 6455 §8.1).
	ErrInvalidUTF8 = errors.New("pubsub: text payload is not valid UTF-8")
)

// ErrConnClosed is engine.ErrClosed: Subscribe on a connection that has
// closed.
var ErrConnClosed = engine.ErrClosed
