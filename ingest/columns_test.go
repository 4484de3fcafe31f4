package ingest

import (
	"testing"

	"github.com/khabardar/khabardar/identifier"
)

func TestHeaderKind(t *testing.T) {
	tests := []struct {
		header string
		want   identifier.Kind
	}{
		{"CNIC", identifier.CNIC},
		{"cnic_no", identifier.CNIC},
		{"CNIC No.", identifier.CNIC},
		{"CNIC Number", identifier.CNIC},
		{"NIC", identifier.CNIC},
		{"ID Card", identifier.CNIC},
		{"Identity Card #", identifier.CNIC},
		{"Father's CNIC", identifier.CNIC},
		{"customer_cnic", identifier.CNIC},
		{"شناختی کارڈ", identifier.CNIC},
		{"شناختی کارڈ نمبر", identifier.CNIC},
		{"شناختي كارڈ", identifier.CNIC}, // Arabic yeh and kaf
		{"Passport No", identifier.Passport},
		{"passport_number", identifier.Passport},
		{"پاسپورٹ نمبر", identifier.Passport},
		{"Mobile", identifier.Phone},
		{"mobile no", identifier.Phone},
		{"Mobile_No_2", identifier.Phone},
		{"PHONE", identifier.Phone},
		{"Phone Number", identifier.Phone},
		{"Cell", identifier.Phone},
		{"cell phone #", identifier.Phone},
		{"MSISDN", identifier.Phone},
		{"Contact", identifier.Phone},
		{"Contact No", identifier.Phone},
		{"number", identifier.Phone},
		{"Alternate Mobile", identifier.Phone},
		{"موبائل", identifier.Phone},
		{"موبائل نمبر", identifier.Phone},
		{"فون", identifier.Phone},
		{"IMEI", identifier.IMEI},
		{"imei1", identifier.IMEI},
		{"IMEI 2", identifier.IMEI},
		{"Device IMEI", identifier.IMEI},
		{"", identifier.Unknown},
		{"Name", identifier.Unknown},
		{"S.No", identifier.Unknown},
		{"Sr. No.", identifier.Unknown},
		{"Customer Number", identifier.Unknown},
		{"Serial Number", identifier.Unknown},
		{"CNIC Expiry", identifier.Unknown},
		{"Contact Name", identifier.Unknown},
		{"Mobile Model", identifier.Unknown},
		{"Clinic", identifier.Unknown},
		{"Address", identifier.Unknown},
		{"ID", identifier.Unknown},
		{"نام", identifier.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			if got := headerKind(tt.header); got != tt.want {
				t.Errorf("headerKind(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

func TestParseColumnSpec(t *testing.T) {
	tests := []struct {
		in      string
		want    ColumnSpec
		wantErr bool
	}{
		{"cnic_no", ColumnSpec{Name: "cnic_no"}, false},
		{"Mobile=phone", ColumnSpec{Name: "Mobile", Kind: identifier.Phone}, false},
		{" Mobile No = PHONE ", ColumnSpec{Name: "Mobile No", Kind: identifier.Phone}, false},
		{"C=imei", ColumnSpec{Name: "C", Kind: identifier.IMEI}, false},
		{"a=b=cnic", ColumnSpec{Name: "a=b", Kind: identifier.CNIC}, false},
		{"x=passport", ColumnSpec{Name: "x", Kind: identifier.Passport}, false},
		{"x=ntn", ColumnSpec{}, true},
		{"x=", ColumnSpec{}, true},
		{"=cnic", ColumnSpec{}, true},
		{"", ColumnSpec{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseColumnSpec(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseColumnSpec(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSafeLabel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Mobile No", "Mobile No"},
		{" IMEI 2 ", "IMEI 2"},
		{"35202-1234567-1", ""},
		{"House 12345", ""},
		{"03001234567", ""},
		{"a\x00b", "ab"},
		{"an extraordinarily long header that goes on and on", "an extraordinarily long header that goe…"},
	}
	for _, tt := range tests {
		if got := safeLabel(tt.in); got != tt.want {
			t.Errorf("safeLabel(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestColumnLetters(t *testing.T) {
	for _, c := range []struct {
		i int
		s string
	}{{0, "A"}, {25, "Z"}, {26, "AA"}, {701, "ZZ"}, {702, "AAA"}, {16383, "XFD"}} {
		if got := colLetters(c.i); got != c.s {
			t.Errorf("colLetters(%d) = %q, want %q", c.i, got, c.s)
		}
		if got := lettersIndex(c.s); got != c.i {
			t.Errorf("lettersIndex(%q) = %d, want %d", c.s, got, c.i)
		}
	}
	for _, ref := range []string{"B3", "$B$3", "b3"} {
		if c, ok := cellColumn(ref); !ok || c != 1 {
			t.Errorf("cellColumn(%q) = %d, %v", ref, c, ok)
		}
	}
	if _, ok := cellColumn("ZZZZ1"); ok {
		t.Error("cellColumn accepts four letters")
	}
}
