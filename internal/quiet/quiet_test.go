package quiet

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // String of the result; "" for an error
		errHas   string // a part of the error
	}{
		{"default, across midnight", Default, "22:00-08:00", ""},
		{"within a day", "13:30-14:15", "13:30-14:15", ""},
		{"single-digit hours", "9:00-7:05", "09:00-07:05", ""},
		{"spaces", " 22:00 - 08:00 ", "22:00-08:00", ""},
		{"midnight start", "00:00-06:00", "00:00-06:00", ""},
		{"ends at midnight", "21:00-00:00", "21:00-00:00", ""},
		{"off", "off", "off", ""},
		{"OFF", "OFF", "off", ""},
		{"equal ends", "22:00-22:00", "", "same time"},
		{"empty", "", "", "HH:MM-HH:MM"},
		{"one time", "22:00", "", "HH:MM-HH:MM"},
		{"hour 24", "22:00-24:00", "", "00:00 to 23:59"},
		{"minute 60", "22:60-08:00", "", "00:00 to 23:59"},
		{"no minutes", "22-08", "", "00:00 to 23:59"},
		{"one-digit minutes", "22:0-08:00", "", "00:00 to 23:59"},
		{"three-digit hour", "022:00-08:00", "", "00:00 to 23:59"},
		{"signed", "+2:00-08:00", "", "00:00 to 23:59"},
		{"a zone", "22:00-08:00 UTC", "", "00:00 to 23:59"},
		{"words", "night", "", "HH:MM-HH:MM"},
		{"a third end", "22:00-08:00-09:00", "", "00:00 to 23:59"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.in)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("Parse(%q) = %v, %v; want an error saying %q", tt.in, q, err, tt.errHas)
				}
				return
			}
			if err != nil || q.String() != tt.want {
				t.Fatalf("Parse(%q) = %v, %v; want %s", tt.in, q, err, tt.want)
			}
			if q.Off() != (tt.want == "off") {
				t.Fatalf("Off = %v", q.Off())
			}
		})
	}
}

func TestContainsAndNext(t *testing.T) {
	pkt := func(day, h, m, s int) time.Time { return time.Date(2025, 3, day, h, m, s, 0, PKT) }
	tests := []struct {
		name  string
		hours string
		at    time.Time
		quiet bool
		next  time.Time // when quiet
	}{
		{"default: evening, before", Default, pkt(1, 21, 59, 59), false, time.Time{}},
		{"default: the start is quiet", Default, pkt(1, 22, 0, 0), true, pkt(2, 8, 0, 0)},
		{"default: before midnight", Default, pkt(1, 23, 30, 0), true, pkt(2, 8, 0, 0)},
		{"default: midnight", Default, pkt(2, 0, 0, 0), true, pkt(2, 8, 0, 0)},
		{"default: early morning", Default, pkt(2, 3, 0, 0), true, pkt(2, 8, 0, 0)},
		{"default: the last second", Default, pkt(2, 7, 59, 59), true, pkt(2, 8, 0, 0)},
		{"default: the end is not quiet", Default, pkt(2, 8, 0, 0), false, time.Time{}},
		{"default: noon", Default, pkt(2, 12, 0, 0), false, time.Time{}},
		{"default: UTC 17:30 is PKT 22:30", Default, time.Date(2025, 3, 1, 17, 30, 0, 0, time.UTC), true, pkt(2, 8, 0, 0)},
		{"default: UTC 02:59 is PKT 07:59", Default, time.Date(2025, 3, 1, 2, 59, 0, 0, time.UTC), true, pkt(1, 8, 0, 0)},
		{"default: UTC 03:00 is PKT 08:00", Default, time.Date(2025, 3, 1, 3, 0, 0, 0, time.UTC), false, time.Time{}},
		{"default: across a month's end", Default, time.Date(2025, 1, 31, 23, 0, 0, 0, PKT), true, time.Date(2025, 2, 1, 8, 0, 0, 0, PKT)},
		{"within a day: inside", "13:00-14:00", pkt(1, 13, 30, 0), true, pkt(1, 14, 0, 0)},
		{"within a day: after", "13:00-14:00", pkt(1, 14, 0, 1), false, time.Time{}},
		{"within a day: before", "13:00-14:00", pkt(1, 12, 59, 59), false, time.Time{}},
		{"ends at midnight: quiet at 23:59", "21:00-00:00", pkt(1, 23, 59, 0), true, pkt(2, 0, 0, 0)},
		{"ends at midnight: not at 00:00", "21:00-00:00", pkt(2, 0, 0, 0), false, time.Time{}},
		{"off: never quiet", "off", pkt(1, 3, 0, 0), false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.hours)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.Contains(tt.at); got != tt.quiet {
				t.Fatalf("Contains(%v) = %v, want %v", tt.at, got, tt.quiet)
			}
			next := q.Next(tt.at)
			if !tt.quiet {
				if !next.Equal(tt.at) {
					t.Fatalf("Next(%v) = %v, want itself", tt.at, next)
				}
				return
			}
			if !next.Equal(tt.next) || q.Contains(next) {
				t.Fatalf("Next(%v) = %v (quiet %v), want %v", tt.at, next, q.Contains(next), tt.next)
			}
		})
	}
	if (Hours{}).Contains(time.Now()) || !(Hours{}).Off() {
		t.Fatal("the zero Hours is not off")
	}
}
