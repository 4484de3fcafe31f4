package prereq

import (
	"strings"
	"testing"
)

func TestDecide(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		skip     bool
		contains string
	}{
		{"bare machine: fails and says how to install", nil, false, "apt-get install -y redis-server"},
		{"bare machine: names the way out", nil, false, EnvAllowSkip + "=1"},
		{"allowed: skips", map[string]string{EnvAllowSkip: "1"}, true, "skipped"},
		{"required: fails", map[string]string{"KHABARDAR_REQUIRE_REDIS": "1"}, false, "KHABARDAR_REQUIRE_REDIS=1"},
		{"required wins over allowed", map[string]string{"KHABARDAR_REQUIRE_REDIS": "1", EnvAllowSkip: "1"}, false, "KHABARDAR_REQUIRE_REDIS=1"},
		{"allow needs exactly 1", map[string]string{EnvAllowSkip: "yes"}, false, "install it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			skip, why := decide(getenv, "KHABARDAR_REQUIRE_REDIS", "no Redis", "apt-get install -y redis-server")
			if skip != tt.skip || !strings.Contains(why, tt.contains) || !strings.HasPrefix(why, "no Redis") {
				t.Errorf("skip %v, %q; want skip %v and %q", skip, why, tt.skip, tt.contains)
			}
		})
	}
}
