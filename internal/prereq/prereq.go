// Package prereq decides what a test does when a tool it runs for real is
// missing (redis-server, Chromium, Node.js): it fails, naming the tool and
// how to install it, so that "go test ./..." on a bare machine cannot look
// like a pass. KHABARDAR_ALLOW_SKIP=1 turns those failures into skips for
// someone who knows what they are leaving untested; a group's own REQUIRE
// variable (KHABARDAR_REQUIRE_REDIS, KHABARDAR_REQUIRE_BROWSER), set by CI,
// makes it a failure whatever else is set.
package prereq

import (
	"os"
	"testing"
)

// EnvAllowSkip, set to 1, lets tests whose tools are missing skip.
const EnvAllowSkip = "KHABARDAR_ALLOW_SKIP"

// Missing ends t for want of a tool: msg says what is missing, install how
// to get it (e.g. "apt-get install -y redis-server"), requireEnv names the
// group's REQUIRE variable ("" for none).
func Missing(t testing.TB, requireEnv, msg, install string) {
	t.Helper()
	skip, why := decide(os.Getenv, requireEnv, msg, install)
	if skip {
		t.Skip(why)
	}
	t.Fatal(why)
}

// decide returns whether to skip, and the message either way.
func decide(getenv func(string) string, requireEnv, msg, install string) (skip bool, why string) {
	switch {
	case requireEnv != "" && getenv(requireEnv) == "1":
		return false, msg + " (" + requireEnv + "=1)"
	case getenv(EnvAllowSkip) == "1":
		return true, msg + " (skipped: " + EnvAllowSkip + "=1)"
	}
	return false, msg + ": install it (" + install + ") or set " + EnvAllowSkip + "=1 to skip these tests, knowing they did not run"
}
