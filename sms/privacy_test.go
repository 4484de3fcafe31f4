package sms

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/fixture"
	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/redisstore"
	"github.com/redis/go-redis/v9"
)

// Sentinels: values that appear nowhere else in the tests, so a hit is a
// leak of this test's data.
var (
	sentinelSender = fixture.Phone(4_242_424) // "03XX-XXXXXXX"
	sentinelOther  = fixture.Phone(4_343_434)
	sentinelCNIC   = fixture.CNIC(424_242)
	sentinelIMEI   = fixture.IMEI(424_242)
)

// urduDigits writes s's ASCII digits as Urdu (Extended Arabic-Indic) ones.
func urduDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r - '0' + '۰'
		}
		return r
	}, s)
}

func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// forms returns every form a value could leak in: as typed, digits only,
// canonical, canonical digits, and for a number its international,
// national and national significant forms.
func forms(t *testing.T, k identifier.Kind, typed string) []string {
	id := mustParse(t, k, typed)
	canon := string(id.Canonical())
	_, value, _ := strings.Cut(canon, ":")
	out := []string{typed, urduDigits(typed), digitsOnly(typed), canon, value, digitsOnly(value)}
	if k == identifier.Phone {
		nsn := strings.TrimPrefix(value, "+92")
		out = append(out, "0"+nsn, "92"+nsn, nsn)
	}
	return out
}

// privacyMessages sends every kind of message with the sentinels and
// returns what came back, replies and errors, as text.
func privacyMessages(t *testing.T, e *env) []string {
	from := "+92" + strings.TrimPrefix(digitsOnly(sentinelSender), "0")
	bodies := []string{
		"ME", "", "mera number " + sentinelSender, // the sender's own number, checked
		"CNIC " + sentinelCNIC, urduDigits(sentinelCNIC), // found
		"IMEI " + sentinelIMEI,
		sentinelOther, "number " + sentinelOther, // another number: not checked
		"CNIC " + sentinelCNIC[:len(sentinelCNIC)-2], // invalid
		sentinelCNIC + " " + sentinelIMEI,            // several
		"URDU", "شناختی کارڈ " + urduDigits(sentinelCNIC), "ENG", "HELP",
		sentinelCNIC, sentinelCNIC, sentinelCNIC, // past the limit: the notice, then silence
	}
	var out []string
	for _, b := range bodies {
		r, err := e.svc.Handle(context.Background(), Message{Gateway: "twilio", From: from, Body: b})
		out = append(out, r.Text)
		if err != nil {
			out = append(out, err.Error())
		}
	}
	return out
}

// scan fails for every form of every sentinel found in haystack.
func scanFor(t *testing.T, where string, haystack []byte) {
	t.Helper()
	for _, s := range []struct {
		kind  identifier.Kind
		typed string
	}{
		{identifier.Phone, sentinelSender}, {identifier.Phone, sentinelOther},
		{identifier.CNIC, sentinelCNIC}, {identifier.IMEI, sentinelIMEI},
	} {
		for _, f := range forms(t, s.kind, s.typed) {
			if bytes.Contains(haystack, []byte(f)) {
				t.Errorf("%s holds a %v sentinel in the form %q", where, s.kind, f)
			}
		}
	}
}

// privacyIngest stores the sentinels the way ingest does.
func privacyIngest(t *testing.T, e *env) {
	e.ingest(listing("sentinel-shop", "location", "cnic_copy"),
		mustParse(t, identifier.CNIC, sentinelCNIC), mustParse(t, identifier.IMEI, sentinelIMEI),
		mustParse(t, identifier.Phone, sentinelSender))
}

// privacyLimits let the sender's last messages meet its limit.
var privacyLimits = ratelimit.Config{SMSSender: "15-H", SMSGateway: "1000-H"}

func checkPrivacyReplies(t *testing.T, e *env, out []string) {
	t.Helper()
	joined := strings.Join(out, "\n")
	if !strings.Contains(joined, "is in 1 listing") || !strings.Contains(joined, english.otherPhone) || !afterRE.MatchString(joined) {
		t.Fatalf("the messages did not reach every path (found, other number, limit):\n%s", joined)
	}
	scanFor(t, "a reply or error", []byte(joined))
	if !strings.Contains(e.logs.String(), `"command":"check"`) {
		t.Fatalf("the log is not the Service's: %s", e.logs)
	}
	scanFor(t, "the log", []byte(e.logs.String()))
	for _, b := range []string{"mera number", "شناختی"} {
		if strings.Contains(e.logs.String(), b) {
			t.Errorf("the log holds a message body (%q)", b)
		}
	}
}

func TestPrivacyEmbedded(t *testing.T) {
	e := newEnv(t, privacyLimits)
	privacyIngest(t, e)
	out := privacyMessages(t, e)
	checkPrivacyReplies(t, e, out)
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	var files []byte
	err := filepath.WalkDir(e.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		files = append(files, b...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The scan reads what the store wrote: the sender's language choice is
	// there under its keyed hash.
	hash := e.svc.SenderHash("+92" + strings.TrimPrefix(digitsOnly(sentinelSender), "0"))
	if !bytes.Contains(files, []byte(hash)) {
		t.Fatal("the store's file does not hold the sender's preference: the scan reads the wrong place")
	}
	scanFor(t, "the store's files", files)
}

func TestPrivacyRedis(t *testing.T) {
	url := redistest.URL(t)
	st, err := redisstore.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	rc := privacyLimits
	rc.Redis = rdb // the counters too
	e := &env{t: t}
	e.init(st, rc)
	privacyIngest(t, e)
	out := privacyMessages(t, e)
	checkPrivacyReplies(t, e, out)

	dump := redistest.Dump(t, url)
	var all []byte
	hash := e.svc.SenderHash("+92" + strings.TrimPrefix(digitsOnly(sentinelSender), "0"))
	counters := 0
	for k, v := range dump {
		all = append(append(append(all, k...), 0), v...)
		if strings.HasPrefix(k, "khb:rl:") && strings.HasSuffix(k, "sender:"+hash) {
			counters++
		}
	}
	if dump["khb:p:"+hash] == nil || counters < 2 {
		t.Fatalf("no preference or counters under the sender's hash (%d counters): the scan reads the wrong place", counters)
	}
	scanFor(t, "Redis", all)
}
