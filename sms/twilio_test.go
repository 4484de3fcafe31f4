package sms

import (
	"encoding/xml"
	"net/url"
	"strings"
	"testing"
)

// Twilio's published example (twilio-go's and twilio-python's tests).
const (
	twilioToken = "12345"
	twilioURL   = "https://mycompany.com/myapp.php?foo=1&bar=2"
	twilioSig   = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
)

func twilioParams() url.Values {
	return url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675309"},
		"Digits":  {"1234"},
		"From":    {"+14158675309"},
		"To":      {"+18005551212"},
	}
}

func TestTwilioSignature(t *testing.T) {
	tests := []struct {
		name   string
		url    string
		params url.Values
		want   string
	}{
		{"published example", twilioURL, twilioParams(), twilioSig},
		{"https with :443", strings.Replace(twilioURL, ".com", ".com:443", 1), twilioParams(), "kvajT1Ptam85bY51eRf/AJRuM3w="},
		{"http with :80", strings.Replace(strings.Replace(twilioURL, "https", "http", 1), ".com", ".com:80", 1), twilioParams(), "0ZXoZLH/DfblKGATFgpif+LLRf4="},
		{"http with :1234", strings.Replace(strings.Replace(twilioURL, "https", "http", 1), ".com", ".com:1234", 1), twilioParams(), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="},
		{"repeated field: values sorted, duplicates once", twilioURL,
			url.Values{"Sid": {"CA123"}, "SidAccount": {"AC123"}, "Digits": {"5678", "1234", "1234"}}, "IK+Dwps556ElfBT0I3Rgjkr1wJU="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TwilioSignature(twilioToken, tt.url, tt.params); got != tt.want {
				t.Fatalf("TwilioSignature = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestValidTwilio(t *testing.T) {
	http := strings.Replace(twilioURL, "https", "http", 1)
	tests := []struct {
		name      string
		token     string
		url       string
		params    url.Values
		signature string
		want      bool
	}{
		{"published example", twilioToken, twilioURL, twilioParams(), twilioSig, true},
		{"https with a port, signed without it", twilioToken, strings.Replace(twilioURL, ".com", ".com:1234", 1), twilioParams(), twilioSig, true},
		{"https without a port, signed with :443", twilioToken, twilioURL, twilioParams(), "kvajT1Ptam85bY51eRf/AJRuM3w=", true},
		{"http without a port, signed with :80", twilioToken, http, twilioParams(), "0ZXoZLH/DfblKGATFgpif+LLRf4=", true},
		{"http with :1234, signed with it", twilioToken, strings.Replace(http, ".com", ".com:1234", 1), twilioParams(), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", true},
		{"https with :443, signed without it", twilioToken, strings.Replace(twilioURL, ".com", ".com:443", 1), twilioParams(), twilioSig, true},
		{"credentials in the URL", twilioToken, "https://user:pass@mycompany.com:8443/myapp.php?foo=1&bar=2", twilioParams(),
			TwilioSignature(twilioToken, "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2", twilioParams()), true},

		{"missing signature", twilioToken, twilioURL, twilioParams(), "", false},
		{"empty token", "", twilioURL, twilioParams(), TwilioSignature("", twilioURL, twilioParams()), false},
		{"wrong token", "54321", twilioURL, twilioParams(), twilioSig, false},
		{"one bit off", twilioToken, twilioURL, twilioParams(), "RSOYDt4T1cUTdK1PDd93/VVr8B9=", false},
		{"truncated", twilioToken, twilioURL, twilioParams(), twilioSig[:20], false},
		{"not base64", twilioToken, twilioURL, twilioParams(), "not a signature", false},
		{"http signature for https", twilioToken, twilioURL, twilioParams(), "0ZXoZLH/DfblKGATFgpif+LLRf4=", false},
		{"another path", twilioToken, "https://mycompany.com/other.php?foo=1&bar=2", twilioParams(), twilioSig, false},
		{"query string changed", twilioToken, "https://mycompany.com/myapp.php?foo=1&bar=3", twilioParams(), twilioSig, false},
		{"a field changed", twilioToken, twilioURL, func() url.Values { p := twilioParams(); p.Set("Digits", "1235"); return p }(), twilioSig, false},
		{"a field added", twilioToken, twilioURL, func() url.Values { p := twilioParams(); p.Set("Body", "ME"); return p }(), twilioSig, false},
		{"a field dropped", twilioToken, twilioURL, func() url.Values { p := twilioParams(); p.Del("To"); return p }(), twilioSig, false},
		{"no fields", twilioToken, twilioURL, nil, twilioSig, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidTwilio(tt.token, tt.url, tt.params, tt.signature); got != tt.want {
				t.Fatalf("ValidTwilio = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPorts(t *testing.T) {
	tests := []struct{ url, with, without string }{
		{"https://a.pk/x", "https://a.pk:443/x", "https://a.pk/x"},
		{"http://a.pk", "http://a.pk:80", "http://a.pk"},
		{"HTTPS://a.pk?q=1", "HTTPS://a.pk:443?q=1", "HTTPS://a.pk?q=1"},
		{"https://a.pk:8443/x", "https://a.pk:8443/x", "https://a.pk/x"},
		{"https://u:p@a.pk/x", "https://u:p@a.pk:443/x", "https://u:p@a.pk/x"},
		{"https://[2001:db8::1]/x", "https://[2001:db8::1]:443/x", "https://[2001:db8::1]/x"},
		{"https://[2001:db8::1]:8443/x", "https://[2001:db8::1]:8443/x", "https://[2001:db8::1]/x"},
		{"https://a.pk/x?next=http://b.pk:80/", "https://a.pk:443/x?next=http://b.pk:80/", "https://a.pk/x?next=http://b.pk:80/"},
		{"ftp://a.pk/x", "ftp://a.pk/x", "ftp://a.pk/x"},
		{"/relative", "/relative", "/relative"},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := withPort(tt.url); got != tt.with {
			t.Errorf("withPort(%q) = %q, want %q", tt.url, got, tt.with)
		}
		if got := withoutPort(tt.url); got != tt.without {
			t.Errorf("withoutPort(%q) = %q, want %q", tt.url, got, tt.without)
		}
	}
}

func TestTwiML(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"silence", "", `<?xml version="1.0" encoding="UTF-8"?><Response/>`},
		{"plain", "OK, replies will be in English.", `<?xml version="1.0" encoding="UTF-8"?><Response><Message>OK, replies will be in English.</Message></Response>`},
		{"escaped", `<a & "b">'c'`, `<?xml version="1.0" encoding="UTF-8"?><Response><Message>&lt;a &amp; &#34;b&#34;&gt;&#39;c&#39;</Message></Response>`},
		{"urdu", "ٹھیک ہے", `<?xml version="1.0" encoding="UTF-8"?><Response><Message>ٹھیک ہے</Message></Response>`},
		{"not XML characters", "a\x00b", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>a\uFFFDb</Message></Response>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TwiML(tt.text)
			if string(got) != tt.want {
				t.Fatalf("TwiML = %s\nwant    %s", got, tt.want)
			}
			// It parses back to the text.
			var r struct {
				Message *string `xml:"Message"`
			}
			if err := xml.Unmarshal(got, &r); err != nil {
				t.Fatalf("TwiML does not parse: %v", err)
			}
			if tt.text == "" && r.Message != nil || tt.text != "" && (r.Message == nil || *r.Message != strings.ToValidUTF8(strings.ReplaceAll(tt.text, "\x00", "\uFFFD"), "\uFFFD")) {
				t.Fatalf("TwiML parses to %v", r.Message)
			}
		})
	}
}

func TestValidSecret(t *testing.T) {
	tests := []struct {
		name, want, got string
		ok              bool
	}{
		{"same", "s3cret-value", "s3cret-value", true},
		{"different", "s3cret-value", "s3cret-valuf", false},
		{"prefix", "s3cret-value", "s3cret", false},
		{"longer", "s3cret-value", "s3cret-value!", false},
		{"empty given", "s3cret-value", "", false},
		{"no secret configured", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidSecret(tt.want, tt.got); got != tt.ok {
				t.Fatalf("ValidSecret = %v, want %v", got, tt.ok)
			}
		})
	}
	if (Reply{UCS2: true}).KannelCoding() != "2" || (Reply{}).KannelCoding() != "0" {
		t.Fatal("KannelCoding")
	}
}
