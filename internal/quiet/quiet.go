// Package quiet holds the quiet hours of alerts: a daily span of Pakistan
// time in which no alert SMS is sent, so that nobody's phone buzzes with a
// data-breach warning at 3 a.m. A message due inside the span waits for
// its end (Hours.Next).
package quiet

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PKT is Pakistan Standard Time, UTC+5, which keeps no daylight saving
// time: quiet hours are read in it whatever the server's time zone.
var PKT = time.FixedZone("PKT", 5*3600)

// Default is the default quiet hours: 22:00 to 08:00 Pakistan time.
const Default = "22:00-08:00"

// Hours is a daily span of Pakistan time, [Start, End) in minutes after
// midnight; End before Start crosses midnight. The zero Hours is off:
// every time may send.
type Hours struct {
	on         bool
	start, end int // minutes after midnight, PKT; start != end
}

// Parse reads quiet hours written as "HH:MM-HH:MM" (Pakistan time; the
// span may cross midnight, as the default 22:00-08:00 does), or "off" for
// none. Equal ends are refused: they could mean no quiet or a day of it,
// and "off" says the one while the other would never send.
func Parse(s string) (Hours, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return Hours{}, nil
	}
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return Hours{}, fmt.Errorf("quiet hours %q are not HH:MM-HH:MM (Pakistan time) or off", s)
	}
	start, err := clock(from)
	if err != nil {
		return Hours{}, fmt.Errorf("quiet hours %q: %v", s, err)
	}
	end, err := clock(to)
	if err != nil {
		return Hours{}, fmt.Errorf("quiet hours %q: %v", s, err)
	}
	if start == end {
		return Hours{}, fmt.Errorf("quiet hours %q start and end at the same time: write off for none", s)
	}
	return Hours{on: true, start: start, end: end}, nil
}

// clock reads "H:MM" or "HH:MM", 00:00 to 23:59, as minutes after midnight.
func clock(s string) (int, error) {
	s = strings.TrimSpace(s)
	hh, mm, ok := strings.Cut(s, ":")
	h, herr := strconv.Atoi(hh)
	m, merr := strconv.Atoi(mm)
	if !ok || herr != nil || merr != nil || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 ||
		h < 0 || h > 23 || m < 0 || m > 59 || hh[0] == '+' || hh[0] == '-' || mm[0] == '+' || mm[0] == '-' {
		return 0, fmt.Errorf("%q is not a time of day from 00:00 to 23:59", s)
	}
	return h*60 + m, nil
}

// Off reports whether there are no quiet hours.
func (q Hours) Off() bool { return !q.on }

// String is the form Parse reads: "22:00-08:00", or "off".
func (q Hours) String() string {
	if !q.on {
		return "off"
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", q.start/60, q.start%60, q.end/60, q.end%60)
}

// Contains reports whether t falls in the quiet hours: from Start (itself
// quiet) up to End (itself not).
func (q Hours) Contains(t time.Time) bool {
	if !q.on {
		return false
	}
	m := minute(t)
	if q.start < q.end {
		return q.start <= m && m < q.end
	}
	return m >= q.start || m < q.end // across midnight
}

// Next returns the first time at or after t when sending may resume: t
// itself outside the quiet hours, else the quiet hours' next end, in
// Pakistan time.
func (q Hours) Next(t time.Time) time.Time {
	if !q.Contains(t) {
		return t
	}
	p := t.In(PKT)
	end := time.Date(p.Year(), p.Month(), p.Day(), q.end/60, q.end%60, 0, 0, PKT)
	if !end.After(p) { // quiet since before midnight: it ends tomorrow
		end = end.AddDate(0, 0, 1)
	}
	return end
}

// minute is t's minute of the day in Pakistan time.
func minute(t time.Time) int {
	p := t.In(PKT)
	return p.Hour()*60 + p.Minute()
}
