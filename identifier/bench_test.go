package identifier

import "testing"

func BenchmarkParse(b *testing.B) {
	benches := []struct {
		name string
		kind Kind
		raw  Raw
	}{
		{"cnic/plain", CNIC, "3520212345671"},
		{"cnic/dashed", CNIC, "35202-1234567-1"},
		{"cnic/urdu", CNIC, "۳۵۲۰۲-۱۲۳۴۵۶۷-۱"},
		{"cnic/detect", Unknown, "35202-1234567-1"},
		{"cnic/canonical", Unknown, "cnic:3520212345671"},
		{"phone/national", Phone, "03001234567"},
		{"phone/dashed", Phone, "0300-1234567"},
		{"phone/e164", Phone, "+923001234567"},
		{"phone/spaced", Phone, "+92 (300) 123-4567"},
		{"phone/0092", Phone, "0092-300-1234567"},
		{"phone/dropped-zero", Phone, "3001234567"},
		{"phone/detect", Unknown, "0300-1234567"},
		{"phone/slow-trunk-zero", Phone, "+92 0300 1234567"},
		{"phone/reject-unallocated", Phone, "03381234567"},
		{"phone/reject-foreign", Phone, "+4915112345678"},
		{"imei/15", IMEI, "352099001761481"},
		{"imei/14", IMEI, "35209900176148"},
		{"imei/16", IMEI, "3520990017614807"},
		{"imei/detect", Unknown, "35-209900-176148-1"},
		{"reject/scientific", CNIC, "3.52021E+12"},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Parse(bb.kind, bb.raw)
			}
		})
	}
}

func BenchmarkScan(b *testing.B) {
	lines := []struct{ name, text string }{
		{"no-digits", "bhai ye data kahan se mila? sab log dekh rahe hain, jaldi batao"},
		{"chat-line", "12/03/2024, 9:41 pm - Ali Khan: Rs 500 location of 0300-1234567, CNIC ۳۵۲۰۲-۱۲۳۴۵۶۷-۱"},
		{"listing", "1. 35202-1234567-1 0300 1234567 IMEI 352099001761481 | 2. 42101-7654321-3 +92 321 7654321"},
		{"dates-prices", "15/01/2024 10:30 Rs 1,500 per record, 2,000 records, total Rs 3,000,000"},
	}
	for _, l := range lines {
		b.Run(l.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(l.text)))
			for b.Loop() {
				Scan(l.text, func(ID, error) bool { return true })
			}
		})
	}
}
