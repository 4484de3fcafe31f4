package sms

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/redis/go-redis/v9"
)

// Senders and values of the end-to-end tests.
const (
	senderListed   = "+923001234567" // a number in a listing
	senderClean    = "+923217654321" // in none
	senderForeign  = "+14155552671"
	senderLandline = "+924235761234"
	cnicLocation   = "35202-1234567-1" // in one listing offering locations
	cnicTwo        = "42101-7654321-3" // in two, the most sensitive offering bank details
	cnicClean      = "61101-1111111-1" // in none
	cnicRemoved    = "37405-2222222-2" // only in a removed listing
)

func TestHandleChecks(t *testing.T) {
	e := newEnv(t, generous)
	site := SiteAddress(testSite)
	id := func(k identifier.Kind, raw string) identifier.ID { return mustParse(t, k, raw) }
	e.ingest(listing("loc-shop", "cdr", "location"), id(identifier.CNIC, cnicLocation))
	e.ingest(listing("copies", "cnic_copy"), id(identifier.CNIC, cnicTwo))
	e.ingest(listing("bank-dump", "other", "bank"), id(identifier.CNIC, cnicTwo))
	e.ingest(listing("imei-shop", "imei"), id(identifier.IMEI, testIMEI))
	e.ingest(listing("sim-data", "sim_ownership", "family_tree"), id(identifier.Phone, senderListed))
	e.ingest(listing("gone", "location"), id(identifier.CNIC, cnicRemoved))
	if err := e.store.RemoveListing(context.Background(), "gone"); err != nil {
		t.Fatal(err)
	}

	en := &english
	tests := []struct {
		name    string
		from    string
		body    string
		want    string
		outcome string
	}{
		{"cnic found", senderClean, cnicLocation, en.foundText(identifier.CNIC, 1, "location", site), "found"},
		{"cnic in two listings", senderClean, "CNIC " + cnicTwo, en.foundText(identifier.CNIC, 2, "bank", site), "found"},
		{"cnic not found", senderClean, cnicClean, e.notFound(en, identifier.CNIC), "not_found"},
		{"cnic of a removed listing", senderClean, cnicRemoved, e.notFound(en, identifier.CNIC), "not_found"},
		{"bare imei found", senderClean, testIMEI, en.foundText(identifier.IMEI, 1, "imei", site), "found"},
		{"imei in urdu digits", senderClean, "imei ۳۵۲۰۹۹۰۰۱۷۶۱۴۸۱", en.foundText(identifier.IMEI, 1, "imei", site), "found"},
		{"ME from a listed number", senderListed, "ME", en.foundText(identifier.Phone, 1, "family_tree", site), "found"},
		{"empty message from a listed number", senderListed, "", en.foundText(identifier.Phone, 1, "family_tree", site), "found"},
		{"sender written nationally", "03001234567", "mera number", en.foundText(identifier.Phone, 1, "family_tree", site), "found"},
		{"own number typed", senderListed, "0300 1234567", en.foundText(identifier.Phone, 1, "family_tree", site), "found"},
		{"ME from a clean number", senderClean, "me", e.notFound(en, identifier.Phone), "not_found"},
		{"another number", senderClean, "0300-1234567", en.otherPhone, "other_phone"},
		{"ME from abroad", senderForeign, "ME", en.notMobile, "sender_not_mobile"},
		{"ME from a landline", senderLandline, "ME", en.notMobile, "sender_not_mobile"},
		{"ME from an alphanumeric sender", "JAZZ", "ME", en.notMobile, "sender_not_mobile"},
		{"a cnic from abroad", senderForeign, cnicLocation, en.foundText(identifier.CNIC, 1, "location", site), "found"},
		{"cnic check digit region", senderClean, "CNIC 05202-1234567-1", en.invalid[identifier.CNIC][identifier.ReasonCNICRegion], "invalid_bad_region"},
		{"cnic short", senderClean, "cnic 35202-123456-1", en.invalid[identifier.CNIC][""], "invalid_bad_length"},
		{"imei typo", senderClean, "IMEI 352099001761482", en.invalid[identifier.IMEI][identifier.ReasonCheckDigit], "invalid_bad_check_digit"},
		{"two values", senderClean, cnicLocation + " " + cnicTwo, en.several, "invalid_several_values"},
		{"ambiguous", senderClean, "9203001234567", en.ambiguous, "invalid_ambiguous"},
		{"help", senderClean, "HELP", en.help(site), "help"},
		{"unknown", senderClean, "hello there", en.help(site), "help"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.logs.String())
			r := e.mustSend(tt.from, tt.body)
			if r.Text != tt.want || r.Lang != "en" || r.UCS2 || r.Silent {
				t.Fatalf("reply %+v\nwant text %q in English", r, tt.want)
			}
			line := e.logs.String()[before:]
			if !strings.Contains(line, `"outcome":"`+tt.outcome+`"`) || strings.Count(line, "\n") != 1 {
				t.Fatalf("log %q, want one line with outcome %s", line, tt.outcome)
			}
		})
	}
}

// staleStore names a listing the catalogue does not have in every entry,
// as a store does while a listing is being removed.
type staleStore struct {
	khabardar.Store
	khabardar.PrefStore
	khabardar.ReplayStore
	bucketErr error
	hide      string // a listing Listings leaves out, as if being removed
	buckets   atomic.Int64
}

func (s *staleStore) Listings(ctx context.Context) ([]*khabardar.Listing, error) {
	ls, err := s.Store.Listings(ctx)
	return slices.DeleteFunc(ls, func(l *khabardar.Listing) bool { return l.ID == s.hide }), err
}

func newStale(st khabardar.Store, bucketErr error) *staleStore {
	return &staleStore{Store: st, PrefStore: st.(khabardar.PrefStore), ReplayStore: st.(khabardar.ReplayStore), bucketErr: bucketErr}
}

func (s *staleStore) Bucket(ctx context.Context, prefix string) ([]khabardar.Entry, error) {
	s.buckets.Add(1)
	if s.bucketErr != nil {
		return nil, s.bucketErr
	}
	entries, err := s.Store.Bucket(ctx, prefix)
	for i := range entries {
		entries[i].Listings = append(slices.Clone(entries[i].Listings), "being-removed")
	}
	return entries, err
}

func TestUnknownListingsIgnored(t *testing.T) {
	e := newEnv(t, generous)
	stale := newStale(e.store, nil)
	stale.hide = "gone"
	e.init(stale, generous) // Init again on the same store: same layout
	e.ingest(listing("loc-shop", "location"), mustParse(t, identifier.CNIC, cnicLocation))
	e.ingest(listing("gone", "location"), mustParse(t, identifier.CNIC, cnicRemoved))

	site := SiteAddress(testSite)
	if r := e.mustSend(senderClean, cnicLocation); r.Text != english.foundText(identifier.CNIC, 1, "location", site) {
		t.Fatalf("an unknown listing was counted: %q", r.Text)
	}
	if r := e.mustSend(senderClean, cnicRemoved); r.Text != e.notFound(&english, identifier.CNIC) {
		t.Fatalf("a value only in a listing the catalogue lacks: %q, want not found", r.Text)
	}
}

// TestFabricatedListingsIgnored: a fabricated listing neither counts nor
// lends its categories to a reply, as on the website.
func TestFabricatedListingsIgnored(t *testing.T) {
	e := newEnv(t, generous)
	const onlyFake = "42201-3333333-3"
	fake := listing("fake-bank", "bank")
	fake.Fabricated = true
	e.ingest(listing("loc-shop", "location"), mustParse(t, identifier.CNIC, cnicLocation))
	e.ingest(fake, mustParse(t, identifier.CNIC, cnicLocation), mustParse(t, identifier.CNIC, onlyFake))
	site := SiteAddress(testSite)
	tests := []struct{ name, body, want string }{
		{"in a real and a fabricated listing", cnicLocation, english.foundText(identifier.CNIC, 1, "location", site)},
		{"only in a fabricated listing", onlyFake, e.notFound(&english, identifier.CNIC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := e.mustSend(senderClean, tt.body); r.Text != tt.want {
				t.Fatalf("%q, want %q", r.Text, tt.want)
			}
		})
	}
}

func TestTopCategory(t *testing.T) {
	if !slices.Equal(slices.Sorted(slices.Values(CategoryRank)), slices.Sorted(slices.Values(khabardar.CategoryNames))) {
		t.Fatalf("CategoryRank %v does not rank exactly the listing categories %v", CategoryRank, khabardar.CategoryNames)
	}
	for lang, tx := range languages {
		for _, c := range CategoryRank {
			if tx.categories[c] == "" {
				t.Errorf("%s has no name for category %s", lang, c)
			}
		}
	}
	tests := []struct {
		name string
		have []string
		want string
	}{
		{"location beats all", []string{"other", "imei", "location", "cdr"}, "location"},
		{"cdr over travel", []string{"travel", "cdr"}, "cdr"},
		{"travel over bank", []string{"bank", "travel"}, "travel"},
		{"bank over family tree", []string{"family_tree", "bank"}, "bank"},
		{"family tree over cnic copy", []string{"cnic_copy", "family_tree"}, "family_tree"},
		{"cnic copy over sim ownership", []string{"sim_ownership", "cnic_copy"}, "cnic_copy"},
		{"sim ownership over imei", []string{"imei", "sim_ownership"}, "sim_ownership"},
		{"imei over other", []string{"other", "imei"}, "imei"},
		{"other alone", []string{"other"}, "other"},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]bool{}
			for _, c := range tt.have {
				m[c] = true
			}
			if got := topCategory(m); got != tt.want {
				t.Fatalf("topCategory = %q, want %q", got, tt.want)
			}
		})
	}
}

var afterRE = regexp.MustCompile(`after (\d\d):(\d\d) Pakistan time`)

// wantNotice fails unless r is the limit notice in English, naming a time
// about an hour from now in Pakistan time.
func wantNotice(t *testing.T, r Reply) {
	t.Helper()
	m := afterRE.FindStringSubmatch(r.Text)
	if r.Silent || m == nil {
		t.Fatalf("reply %+v, want the notice to try again after HH:MM", r)
	}
	hh, _ := strconv.Atoi(m[1])
	mm, _ := strconv.Atoi(m[2])
	now := time.Now().In(PKT)
	at := time.Date(now.Year(), now.Month(), now.Day(), hh, mm, 0, 0, PKT)
	if at.Before(now) {
		at = at.AddDate(0, 0, 1)
	}
	if wait := at.Sub(now); wait < 59*time.Minute || wait > 62*time.Minute {
		t.Fatalf("notice says %s:%s, %v from now (%s PKT); want about an hour", m[1], m[2], wait, now.Format("15:04"))
	}
}

func TestSenderLimit(t *testing.T) {
	e := newEnv(t, ratelimit.Config{SMSSender: "3-H", SMSGateway: "1000-H"})
	stale := newStale(e.store, nil)
	e.init(stale, ratelimit.Config{SMSSender: "3-H", SMSGateway: "1000-H"})
	// A catalogue to check against, so that each check reads its bucket.
	e.ingest(listing("loc-shop", "location"), mustParse(t, identifier.CNIC, cnicLocation))

	for i := range 3 {
		if r := e.mustSend(senderClean, cnicClean); r.Text != e.notFound(&english, identifier.CNIC) {
			t.Fatalf("message %d within the limit: %+v", i+1, r)
		}
	}
	checked := stale.buckets.Load()
	wantNotice(t, e.mustSend(senderClean, cnicClean))
	for i := range 3 {
		if r := e.mustSend(senderClean, cnicClean); !r.Silent || r.Text != "" {
			t.Fatalf("message %d after the notice: %+v, want silence", i+5, r)
		}
	}
	// The same sender written another way is the same sender.
	if r := e.mustSend("0321-7654321", "HELP"); !r.Silent {
		t.Fatalf("the sender written nationally: %+v, want silence", r)
	}
	if n := stale.buckets.Load(); n != checked {
		t.Fatalf("%d bucket reads after the limit: refused messages must not be evaluated", n-checked)
	}
	// Another sender is unaffected.
	if r := e.mustSend(senderListed, cnicClean); r.Text != e.notFound(&english, identifier.CNIC) {
		t.Fatalf("another sender: %+v", r)
	}
	if !strings.Contains(e.logs.String(), `"outcome":"silenced_sms"`) || !strings.Contains(e.logs.String(), `"outcome":"limited_sms"`) {
		t.Fatalf("logs do not show the notice and the silence:\n%s", e.logs)
	}
}

func TestGatewayLimit(t *testing.T) {
	e := newEnv(t, ratelimit.Config{SMSSender: "100-H", SMSGateway: "4-H"})
	early := []string{"+923001111111", "+923002222222", "+923003333333", "+923004444444"}
	late := []string{"+923005555555", "+923006666666"}
	for _, s := range early {
		if r := e.mustSend(s, "HELP"); r.Silent || afterRE.MatchString(r.Text) {
			t.Fatalf("within the gateway's limit: %+v", r)
		}
	}
	// Past the gateway's limit each sender hears once when to come back.
	steps := []struct {
		name   string
		from   string
		notice bool
	}{
		{"first late sender", late[0], true},
		{"first late sender again", late[0], false},
		{"second late sender", late[1], true},
		{"an early sender, refused for the first time", early[0], true},
		{"the early sender again", early[0], false},
		{"second late sender again", late[1], false},
	}
	for _, st := range steps {
		r := e.mustSend(st.from, "HELP")
		if st.notice {
			wantNotice(t, r)
		} else if !r.Silent {
			t.Fatalf("%s: %+v, want silence", st.name, r)
		}
	}
	// Another gateway has a limit of its own.
	r, err := e.svc.Handle(context.Background(), Message{Gateway: "kannel", From: late[0], Body: "HELP"})
	if err != nil || r.Silent || afterRE.MatchString(r.Text) {
		t.Fatalf("another gateway: %+v, %v", r, err)
	}
	if !strings.Contains(e.logs.String(), `"outcome":"limited_sms-gateway"`) || !strings.Contains(e.logs.String(), `"outcome":"silenced_sms-gateway"`) {
		t.Fatalf("logs do not show the gateway's refusals:\n%s", e.logs)
	}
}

func TestLimiterUnavailable(t *testing.T) {
	e := newEnv(t, generous)
	// A limiter whose counters are gone: Redis behind a client closed
	// after the limiter was built.
	opt, perr := redis.ParseURL(redistest.URL(t))
	if perr != nil {
		t.Fatal(perr)
	}
	rc := generous
	rc.Redis = redis.NewClient(opt)
	e.init(e.store, rc)
	rc.Redis.Close()
	r, err := e.send(senderClean, cnicLocation)
	wantCode(t, "Handle with the counters gone", err, khabardar.EUNAVAILABLE)
	if r.Silent || r.Text != english.unavailable {
		t.Fatalf("reply %+v, want the unavailable text: fail closed, never unlimited", r)
	}
	r, err = e.send(senderClean, "اردو")
	wantCode(t, "Handle in Urdu with the counters gone", err, khabardar.EUNAVAILABLE)
	if r.Text != urdu.unavailable || !r.UCS2 {
		t.Fatalf("reply %+v, want the Urdu unavailable text", r)
	}
}

func TestStoreUnavailable(t *testing.T) {
	t.Run("closed", func(t *testing.T) {
		e := newEnv(t, generous)
		e.store.Close()
		r, err := e.send(senderClean, cnicLocation)
		wantCode(t, "Handle on a closed store", err, khabardar.EUNAVAILABLE)
		if r.Text != english.unavailable || r.Silent {
			t.Fatalf("reply %+v", r)
		}
	})
	tests := []struct {
		name string
		err  error
		code string
	}{
		{"unreachable", khabardar.Errorf(khabardar.EUNAVAILABLE, "the Redis store cannot be reached"), khabardar.EUNAVAILABLE},
		{"timed out", context.DeadlineExceeded, khabardar.EUNAVAILABLE},
		{"a bug: invalid prefix", khabardar.Errorf(khabardar.EINVALID, "bad prefix"), khabardar.EINTERNAL},
		{"a bug: plain error", errors.New("boom"), khabardar.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, generous)
			e.ingest(listing("loc-shop", "location"), mustParse(t, identifier.CNIC, cnicLocation)) // so the bucket is read
			e.init(newStale(e.store, tt.err), generous)
			r, err := e.send(senderClean, cnicLocation)
			wantCode(t, "Handle", err, tt.code)
			if r.Text != english.unavailable || r.Silent {
				t.Fatalf("reply %+v", r)
			}
			if !strings.Contains(e.logs.String(), `"code":"`+tt.code+`"`) {
				t.Fatalf("log does not carry the code: %s", e.logs)
			}
		})
	}
}

// TestHandleEmptyCatalogue: with no listing that can answer "found", a
// check gets the one-segment "cannot tell" reply in the sender's language,
// never "not found"; once a listing holds identifiers, not found names it.
func TestHandleEmptyCatalogue(t *testing.T) {
	e := newEnv(t, generous)
	site := SiteAddress(testSite)
	for _, tt := range []struct{ name, from, body, want string }{
		{"a cnic", senderClean, cnicClean, english.noListings(site)},
		{"ME", senderListed, "ME", english.noListings(site)},
		{"an imei in Urdu", senderClean, "آئی ایم ای آئی " + testIMEI, urdu.noListings(site)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.mustSend(tt.from, tt.body)
			if r.Text != tt.want {
				t.Fatalf("reply %q, want %q", r.Text, tt.want)
			}
			if _, n := Length(r.Text); n != 1 {
				t.Errorf("%d segments", n)
			}
		})
	}
	if !strings.Contains(e.logs.String(), `"outcome":"no_listings"`) {
		t.Errorf("the outcome is not logged as no_listings:\n%s", e.logs)
	}
	// A listing with no identifiers, or only a fabricated one, answers nothing either.
	empty := listing("empty-shop", "location")
	e.ingest(empty)
	fake := listing("fake-shop", "location")
	fake.Fabricated = true
	e.ingest(fake, mustParse(t, identifier.CNIC, cnicLocation))
	if r := e.mustSend(senderClean, cnicLocation); r.Text != english.noListings(site) {
		t.Fatalf("only an empty and a fabricated listing: %q", r.Text)
	}
	real := listing("loc-shop", "location")
	real.Added = khabardar.Date{Time: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)}
	e.ingest(real, mustParse(t, identifier.CNIC, cnicLocation))
	if r := e.mustSend(senderClean, cnicClean); !strings.Contains(r.Text, "none of the 1 sale listing we know (newest 3 Dec 2026)") {
		t.Fatalf("not found after a listing: %q", r.Text)
	}
}

func TestHandleBadMessage(t *testing.T) {
	e := newEnv(t, generous)
	tests := []struct {
		name string
		m    Message
	}{
		{"no gateway", Message{From: senderClean, Body: "ME"}},
		{"gateway in capitals", Message{Gateway: "Twilio", From: senderClean, Body: "ME"}},
		{"gateway with a space", Message{Gateway: "my gateway", From: senderClean, Body: "ME"}},
		{"no sender", Message{Gateway: "twilio", Body: "ME"}},
		{"blank sender", Message{Gateway: "twilio", From: "  ", Body: "ME"}},
		{"overlong sender", Message{Gateway: "twilio", From: strings.Repeat("9", 65), Body: "ME"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := e.svc.Handle(context.Background(), tt.m)
			wantCode(t, "Handle", err, khabardar.EINVALID)
			if !r.Silent || r.Text != "" {
				t.Fatalf("reply %+v, want silence", r)
			}
		})
	}
}

func TestNew(t *testing.T) {
	e := newEnv(t, generous)
	ok := e.cfg
	tests := []struct {
		name string
		edit func(c *Config)
		code string
	}{
		{"valid", func(c *Config) {}, ""},
		{"short site", func(c *Config) { c.SiteURL = "khabardar.pk" }, ""},
		{"site with a path", func(c *Config) { c.SiteURL = "http://khabardar.pk/sms" }, ""},
		{"no store", func(c *Config) { c.Store, c.Prefs = nil, nil }, khabardar.EINVALID},
		{"no key", func(c *Config) { c.Key = nil }, khabardar.EINVALID},
		{"no limiter", func(c *Config) { c.Limiter = nil }, khabardar.EINVALID},
		{"invalid layout", func(c *Config) { c.Layout.BucketBits = 10 }, khabardar.EINVALID},
		{"another key's layout", func(c *Config) { c.Layout.KeyID = "0123456789abcdef" }, khabardar.EINVALID},
		{"no site", func(c *Config) { c.SiteURL = "" }, khabardar.EINVALID},
		{"only a scheme", func(c *Config) { c.SiteURL = "https://" }, khabardar.EINVALID},
		{"site too long", func(c *Config) { c.SiteURL = "https://www.khabardar.example.pk" }, khabardar.EINVALID},
		{"site with a space", func(c *Config) { c.SiteURL = "khabardar .pk" }, khabardar.EINVALID},
		{"site with an extension character", func(c *Config) { c.SiteURL = "khabardar.pk/~sms" }, khabardar.EINVALID},
		{"site in urdu", func(c *Config) { c.SiteURL = "خبردار.pk" }, khabardar.EINVALID},
		{"preferences kept a year", func(c *Config) { c.PrefRetention = 365 * 24 * time.Hour }, ""},
		{"preferences kept for a negative time", func(c *Config) { c.PrefRetention = -time.Hour }, khabardar.EINVALID},
		{"preferences kept under a millisecond", func(c *Config) { c.PrefRetention = time.Microsecond }, khabardar.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			_, err := New(c)
			wantCode(t, "New", err, tt.code)
		})
	}
	t.Run("defaults", func(t *testing.T) {
		c := ok
		c.Prefs, c.Seen, c.PrefRetention, c.Log, c.Now = nil, nil, 0, nil, nil
		s, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		if s.prefs != c.Store.(khabardar.PrefStore) || s.seen != c.Store.(khabardar.ReplayStore) ||
			s.retain != khabardar.SMSPrefRetention || s.log == nil || s.now == nil || s.site != "khabardar.example.pk" {
			t.Fatalf("defaults not set: prefs %v, seen %v, retain %v, log %v, site %q", s.prefs, s.seen, s.retain, s.log, s.site)
		}
	})
	t.Run("a store that keeps no preferences", func(t *testing.T) {
		c := ok
		c.Prefs = nil
		c.Store = struct{ khabardar.Store }{c.Store} // hides the PrefStore methods
		_, err := New(c)
		wantCode(t, "New", err, khabardar.EINVALID)
	})
	t.Run("a store that keeps no answered messages", func(t *testing.T) {
		c := ok
		c.Prefs, c.Seen = c.Store.(khabardar.PrefStore), nil
		c.Store = struct{ khabardar.Store }{c.Store} // hides the ReplayStore method
		_, err := New(c)
		wantCode(t, "New", err, khabardar.EINVALID)
	})
}

func TestSenderHash(t *testing.T) {
	e := newEnv(t, generous)
	same := []string{"+923001234567", "923001234567", "03001234567", "0300-1234567", " +92 300 1234567 ", "00923001234567"}
	want := e.svc.SenderHash(same[0])
	if !khabardar.ValidKeyedHex(want) {
		t.Fatalf("SenderHash = %q, not a keyed hash", want)
	}
	for _, f := range same[1:] {
		if got := e.svc.SenderHash(f); got != want {
			t.Errorf("SenderHash of one number written another way differs")
		}
	}
	for _, other := range []string{"+923001234568", "+14155552671", "JAZZ"} {
		if e.svc.SenderHash(other) == want {
			t.Errorf("another sender has the same hash")
		}
	}
	// The hash is the sender-purpose keyed hash of the canonical number.
	if want != testKey.Keyed(SenderPurpose).Hex([]byte("phone:+923001234567")) {
		t.Error("the sender hash is not Keyed(SenderPurpose).Hex of the canonical number")
	}
}
