package sms

import (
	"context"
	"testing"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/boltstore"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/redisstore"
)

// testLanguage switches languages and checks that each sender's choice is
// remembered, then restart builds a new Service on the same data and checks
// it still is.
func testLanguage(t *testing.T, e *env, restart func() *env) {
	site := SiteAddress(testSite)
	a, b := senderClean, senderListed
	steps := []struct {
		name, from, body string
		lang, want       string
	}{
		{"english by default", a, "HELP", "en", english.help(site)},
		{"urdu letters, no choice made: urdu", a, "مدد", "ur", urdu.help(site)},
		{"switch to urdu", a, "URDU", "ur", urdu.switched},
		{"remembered", a, "help", "ur", urdu.help(site)},
		{"remembered for a check", a, cnicClean, "ur", e.notFound(&urdu, identifier.CNIC)},
		{"the sender written nationally is the same sender", "0321-7654321", "HELP", "ur", urdu.help(site)},
		{"another sender is unaffected", b, "HELP", "en", english.help(site)},
		{"switch back with ENG", a, "eng", "en", english.switched},
		{"a choice of english beats urdu letters", a, "مدد", "en", english.help(site)},
		{"switch with the urdu word", b, "اردو", "ur", urdu.switched},
	}
	run := func(e *env, steps []struct {
		name, from, body string
		lang, want       string
	}) {
		for _, st := range steps {
			r := e.mustSend(st.from, st.body)
			if r.Text != st.want || r.Lang != st.lang || r.UCS2 != (st.lang == "ur") {
				t.Fatalf("%s: reply %+v, want %q in %s", st.name, r, st.want, st.lang)
			}
		}
	}
	run(e, steps)
	e = restart()
	run(e, []struct {
		name, from, body string
		lang, want       string
	}{
		{"a's english survives a restart", a, "HELP", "en", english.help(site)},
		{"b's urdu survives a restart", b, "HELP", "ur", urdu.help(site)},
	})
}

func TestLanguageEmbedded(t *testing.T) {
	e := newEnv(t, generous)
	testLanguage(t, e, func() *env {
		if err := e.store.Close(); err != nil {
			t.Fatal(err)
		}
		st, err := boltstore.Open(e.dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		e2 := &env{t: t, dir: e.dir}
		e2.init(st, generous)
		return e2
	})
}

func TestLanguageRedis(t *testing.T) {
	url := redistest.URL(t)
	open := func() *env {
		st, err := redisstore.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		e := &env{t: t}
		e.init(st, generous)
		return e
	}
	e := open()
	testLanguage(t, e, open)
	// One key per sender who chose, under khb:p:.
	n := 0
	for k := range redistest.Dump(t, url) {
		if len(k) == len("khb:p:")+khabardar.KeyedHexLen && k[:6] == "khb:p:" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d preference keys, want 2 (one per sender who chose)", n)
	}
}
