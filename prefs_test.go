package khabardar

import (
	"strings"
	"testing"
)

func TestValidKeyedHex(t *testing.T) {
	tests := []struct {
		name string
		s    string
		want bool
	}{
		{"keyed hash", "0123456789abcdef0123456789abcdef", true},
		{"empty", "", false},
		{"upper case", "0123456789ABCDEF0123456789ABCDEF", false},
		{"31 characters", strings.Repeat("a", 31), false},
		{"33 characters", strings.Repeat("a", 33), false},
		{"a phone number", "+923001234567", false},
		{"32 digits", strings.Repeat("9", 32), true},
		{"not hex", strings.Repeat("g", 32), false},
		{"a space", "0123456789abcdef 123456789abcdef", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidKeyedHex(tt.s); got != tt.want {
				t.Fatalf("ValidKeyedHex = %v, want %v", got, tt.want)
			}
			err := CheckSenderHash(tt.s)
			if (err == nil) != tt.want || err != nil && ErrorCode(err) != EINVALID {
				t.Fatalf("CheckSenderHash = %v", err)
			}
			if err != nil && tt.s != "" && strings.Contains(err.Error(), tt.s) {
				t.Fatalf("the error repeats the value: %v", err)
			}
		})
	}
}

func TestCheckSMSLanguage(t *testing.T) {
	for lang, ok := range map[string]bool{"en": true, "ur": true, "": false, "EN": false, "urdu": false, "fr": false} {
		if err := CheckSMSLanguage(lang); (err == nil) != ok || err != nil && ErrorCode(err) != EINVALID {
			t.Errorf("CheckSMSLanguage(%q) = %v", lang, err)
		}
	}
}
