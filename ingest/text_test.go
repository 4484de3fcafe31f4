package ingest

import (
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	chat := "12/01/2024, 10:15 pm - Ali: Assalam o alaikum\n" +
		"12/01/2024, 10:16 pm - Ali: mera CNIC 35202-1234567-1 hai aur number 0300 1234567\n" +
		"12/01/2024, 10:17 pm - Sara: <Media omitted>\n" +
		"12/01/2024, 10:18 pm - Sara: IMEI 352099001761481, purana number 03381234567\n" +
		"\n" +
		"12/01/2024, 10:20 pm - Sara: میرا نمبر ۰۳۲۱۱۲۳۴۵۶۷ ہے\r\n" +
		"last line without newline +92 333 1234567"
	tests := []struct {
		name, file, data string
		opt              Options
		want             []string
	}{
		{
			name: "whatsapp export",
			file: "WhatsApp Chat with Ali.txt",
			data: chat,
			want: []string{
				"2: cnic:3520212345671 phone:+923001234567",
				"4: imei:35209900176148 phone!unallocated",
				"6: phone:+923211234567",
				"7: phone:+923331234567",
			},
		},
		{
			name: "utf-16 chat",
			file: "chat.txt",
			data: utf16LE(chat, true),
			want: []string{
				"2: cnic:3520212345671 phone:+923001234567",
				"4: imei:35209900176148 phone!unallocated",
				"6: phone:+923211234567",
				"7: phone:+923331234567",
			},
		},
		{
			name: "format forced",
			file: "x.csv",
			data: "a,b\nsee 0300-1234567\n",
			opt:  Options{Format: "text"},
			want: []string{"2: phone:+923001234567"},
		},
		{
			name: "unknown extension, prose",
			file: "paste",
			data: "call 0300-1234567, or not.\nbye",
			want: []string{"1: phone:+923001234567"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := open(t, tt.file, tt.data, tt.opt)
			defer r.Close()
			equal(t, dump(t, r), tt.want)
			if done, total := r.Progress(); done != total {
				t.Errorf("Progress at the end = %d, %d", done, total)
			}
		})
	}
}

// TestTextLongLine: a file without line breaks is scanned in chunks, and
// identifiers at the cuts survive.
func TestTextLongLine(t *testing.T) {
	var b strings.Builder
	n := 0
	for b.Len() < 3*textChunk {
		b.WriteString("lorem ipsum dolor sit amet, number 0300 1234567 and so on ")
		n++
	}
	r := open(t, "x.txt", b.String(), Options{})
	total := 0
	for {
		row, vals, err := r.Next()
		if err != nil {
			break
		}
		if row != 1 {
			t.Fatalf("row %d", row)
		}
		for _, v := range vals {
			if v.Err != nil || string(v.ID.Canonical()) != "phone:+923001234567" {
				t.Fatalf("bad value %s", fmtRow(row, []Value{v}))
			}
		}
		total += len(vals)
	}
	if total != n {
		t.Errorf("found %d identifiers, want %d", total, n)
	}
}

func TestCutPoint(t *testing.T) {
	a40, z17 := strings.Repeat("a", 40), strings.Repeat("z", 17)
	tests := []struct {
		name, in string
		want     int
	}{
		{"blank before the number", a40 + " bbbb 0300 1234567" + z17, 46},
		{"blank after the number", a40 + " 0300 1234567 bbbb" + z17, 54},
		{"no blank", a40 + z17, 57},
		{"only blanks between digits: the last blank", a40 + " 03001234567 0300 1234567" + z17, 58},
		{"urdu digits", a40 + " bb ۰۳۰۰ ۱۲۳۴۵۶۷" + z17, 44},
		{"blanks too near the end are not looked at", a40 + " 0300 1234567 ", 54},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cutPoint([]byte(tt.in)); got != tt.want {
				t.Errorf("cutPoint(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}
