package main

import (
	"slices"
	"testing"

	"github.com/khabardar/khabardar/sms"
)

// TestSMSGateways checks that each gateway is on exactly when its secret is
// set, with its settings.
func TestSMSGateways(t *testing.T) {
	names := func(gs []sms.Gateway) []string {
		var n []string
		for _, g := range gs {
			n = append(n, g.Name())
		}
		return n
	}
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"none", Config{PublicURL: "https://khabardar.pk"}, nil},
		{"twilio", Config{PublicURL: "https://khabardar.pk", TwilioAuthToken: "t"}, []string{"twilio"}},
		{"kannel", Config{SMSSecret: "s"}, []string{"kannel"}},
		{"both", Config{PublicURL: "https://khabardar.pk", TwilioAuthToken: "t", SMSSecret: "s"}, []string{"twilio", "kannel"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs := tt.cfg.smsGateways()
			if got := names(gs); !slices.Equal(got, tt.want) || tt.cfg.smsEnabled() != (len(tt.want) > 0) {
				t.Fatalf("gateways %v, enabled %v; want %v", got, tt.cfg.smsEnabled(), tt.want)
			}
			for _, g := range gs {
				switch g := g.(type) {
				case *sms.Twilio:
					if g.AuthToken != tt.cfg.TwilioAuthToken || g.PublicURL != tt.cfg.PublicURL {
						t.Errorf("twilio %+v", g)
					}
				case *sms.Kannel:
					if g.Secret != tt.cfg.SMSSecret {
						t.Errorf("kannel %+v", g)
					}
				}
			}
		})
	}
}
