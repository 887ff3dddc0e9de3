// Package wheel is a hashed timing wheel for many deadlines in coarse ticks:
// one per event loop in the engine, holding every connection's next deadline
// (handshake, keepalive ping, pong grace, idle, close) with no time.Timer and
// no goroutine per connection.
//
// The entry is intrusive: an element embeds a Node and the Wheel is given the
// accessor that finds it, so Schedule, Cancel and Advance allocate nothing
// (Advance reuses its result slice). An element has at most one entry;
// scheduling it again moves it. Schedule and Cancel may be called from any
// goroutine (one lock); Advance, Publish and UntilNext from the one goroutine
// that drives the wheel. Now may be read from anywhere.
//
// # Never early
//
// Time is counted in ticks of res from the wheel's start; tick k begins at
// start + k·res. Advance fires an entry once the tick it is armed for has
// begun, so an entry armed for tick D fires at D·res or later, never before.
// Two ways to name a deadline keep that promise:
//
//   - At(t) is the first tick that begins at or after t: a deadline d from
//     now is At(time.Now().Add(d)), from the clock.
//   - After(from, d) counts from a recorded tick (the Now read when an event
//     happened, which may lag the clock by a tick) and adds Slack, so it never
//     comes before d has passed since the event.
//
// An entry fires late by up to a tick plus the driver's wake-up delay.
package wheel
