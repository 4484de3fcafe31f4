package ratelimit

import "time"

// fakeClock is a Limiter's clock in tests: time moves only when the test
// moves it.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

// setClock makes l decide anonymous evaluations at c's time, in memory and
// on Redis (instead of the server's TIME).
func setClock(l *Limiter, c *fakeClock) {
	switch s := l.counters.(type) {
	case *memCounters:
		s.clock = c.Now
	case *redisCounters:
		s.clock = c.Now
	}
}
