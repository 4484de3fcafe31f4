package sms

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/khabardar/khabardar"
)

const (
	gwPublic = "https://khabardar.example.pk"
	gwToken  = "tok"
	gwSecret = "sec"
	gwKID    = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
	gwForm   = "application/x-www-form-urlencoded"
)

// twilioRequest is Twilio's webhook request posting form to uri; sign is
// the token to sign it with ("" for no signature) over public+uri.
func twilioRequest(form url.Values, contentType, uri, sign string) *Request {
	r := &Request{Method: "POST", RequestURI: uri, ContentType: contentType, Header: http.Header{},
		Query: url.Values{}, Form: form, Body: []byte(form.Encode())}
	if sign != "" {
		r.Header.Set("X-Twilio-Signature", TwilioSignature(sign, gwPublic+uri, form))
	}
	return r
}

func twilioForm(sid string) url.Values {
	f := url.Values{"From": {"+923001234567"}, "To": {"+15005550006"}, "Body": {"HELP"}}
	if sid != "" {
		f.Set("MessageSid", sid)
	}
	return f
}

// kannelRequest is a Kannel sms-service request: query in the URL, form
// posted (nil for a GET), header as X-Khabardar-Secret ("" for none).
func kannelRequest(query, form url.Values, header string) *Request {
	r := &Request{Method: "GET", RequestURI: "/v1/sms/kannel?" + query.Encode(), Header: http.Header{}, Query: query, Form: url.Values{}}
	if form != nil {
		r.Method, r.ContentType, r.Form, r.Body = "POST", gwForm, form, []byte(form.Encode())
	}
	if header != "" {
		r.Header.Set("X-Khabardar-Secret", header)
	}
	return r
}

func TestTwilioGateway(t *testing.T) {
	g := &Twilio{AuthToken: gwToken, PublicURL: gwPublic + "/"} // the trailing slash is not signed
	if g.Name() != "twilio" || strings.Join(g.Methods(), ",") != "POST" {
		t.Fatalf("Name %q, Methods %v", g.Name(), g.Methods())
	}
	const uri = "/v1/sms/twilio"
	wrongSig := twilioRequest(twilioForm(testSID), gwForm, uri, "")
	wrongSig.Header.Set("X-Twilio-Signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
	tampered := twilioRequest(twilioForm(testSID), gwForm, uri, gwToken)
	tampered.Form.Set("Body", "ME")

	auth := []struct {
		name string
		g    *Twilio
		r    *Request
		want error // nil, ErrForbidden, or a *MediaTypeError
	}{
		{"signed", g, twilioRequest(twilioForm(testSID), gwForm, uri, gwToken), nil},
		{"signed, form with a charset", g, twilioRequest(twilioForm(testSID), gwForm+"; charset=utf-8", uri, gwToken), nil},
		{"signed with a query string", g, twilioRequest(twilioForm(testSID), gwForm, uri+"?a=1", gwToken), nil},
		{"no signature", g, twilioRequest(twilioForm(testSID), gwForm, uri, ""), ErrForbidden},
		{"wrong signature", g, wrongSig, ErrForbidden},
		{"signed with another token", g, twilioRequest(twilioForm(testSID), gwForm, uri, "other"), ErrForbidden},
		{"a field changed after signing", g, tampered, ErrForbidden},
		{"signed for another path", g, func() *Request {
			r := twilioRequest(twilioForm(testSID), gwForm, "/v1/sms/kannel", gwToken)
			r.RequestURI = uri
			return r
		}(), ErrForbidden},
		{"no token configured", &Twilio{PublicURL: gwPublic}, twilioRequest(twilioForm(testSID), gwForm, uri, " "), ErrForbidden},
		{"another public URL", &Twilio{AuthToken: gwToken, PublicURL: "https://proxy.example.pk"}, twilioRequest(twilioForm(testSID), gwForm, uri, gwToken), ErrForbidden},
		{"JSON, even signed", g, twilioRequest(twilioForm(testSID), "application/json", uri, gwToken), &MediaTypeError{"Twilio posts application/x-www-form-urlencoded"}},
		{"no content type", g, twilioRequest(twilioForm(testSID), "", uri, gwToken), &MediaTypeError{"Twilio posts application/x-www-form-urlencoded"}},
	}
	for _, tt := range auth {
		t.Run("authenticate/"+tt.name, func(t *testing.T) {
			wantErr(t, tt.g.Authenticate(tt.r), tt.want)
		})
	}

	hex32 := testSID[2:]
	decode := []struct {
		name string
		sid  string
		want string // the ID; "" for the error
	}{
		{"an SMS", testSID, testSID},
		{"an MMS", "MM" + hex32, "MM" + hex32},
		{"upper-case hex", "SM" + strings.ToUpper(hex32), "SM" + strings.ToUpper(hex32)},
		{"missing ID", "", ""},
		{"one short", testSID[:33], ""},
		{"one long", testSID + "0", ""},
		{"an account SID", "AC" + hex32, ""},
		{"lower-case prefix", "sm" + hex32, ""},
		{"not hex", "SM" + strings.Repeat("g", 32), ""},
	}
	for _, tt := range decode {
		t.Run("decode/"+tt.name, func(t *testing.T) {
			m, id, err := g.Decode(twilioRequest(twilioForm(tt.sid), gwForm, uri, gwToken))
			if tt.want == "" {
				wantInvalid(t, err, "MessageSid is not SM or MM and 32 hex digits, as Twilio sends it")
				return
			}
			if err != nil || id != tt.want || m != (Message{From: "+923001234567", Body: "HELP"}) {
				t.Fatalf("Decode = %+v, %q, %v", m, id, err)
			}
		})
	}

	render := []struct {
		name  string
		reply Reply
		body  string
	}{
		{"a reply", Reply{Text: "Khabardar checks <&>"}, `<?xml version="1.0" encoding="UTF-8"?><Response><Message>Khabardar checks &lt;&amp;&gt;</Message></Response>`},
		{"UCS-2 changes nothing", Reply{Text: "اردو", UCS2: true}, `<?xml version="1.0" encoding="UTF-8"?><Response><Message>اردو</Message></Response>`},
		{"silent", Reply{Text: "not sent", Silent: true}, `<?xml version="1.0" encoding="UTF-8"?><Response/>`},
	}
	for _, tt := range render {
		t.Run("render/"+tt.name, func(t *testing.T) {
			resp := g.Render(tt.reply)
			if resp.Status != 0 || resp.ContentType != "text/xml; charset=utf-8" || len(resp.Header) != 0 || string(resp.Body) != tt.body {
				t.Fatalf("Render = %+v, body %s", resp, resp.Body)
			}
		})
	}
}

func TestKannelGateway(t *testing.T) {
	g := &Kannel{Secret: gwSecret}
	if g.Name() != "kannel" || strings.Join(g.Methods(), ",") != "GET,POST" {
		t.Fatalf("Name %q, Methods %v", g.Name(), g.Methods())
	}
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	msg := func(extra ...string) url.Values {
		return q(append([]string{"from", "+923001234568", "text", "HELP"}, extra...)...)
	}

	auth := []struct {
		name string
		g    *Kannel
		r    *Request
		want error
	}{
		{"secret in the query", g, kannelRequest(msg("secret", gwSecret), nil, ""), nil},
		{"secret in the header", g, kannelRequest(msg(), nil, gwSecret), nil},
		{"secret in the posted form", g, kannelRequest(url.Values{}, msg("secret", gwSecret), ""), nil},
		{"POST, secret in the query", g, kannelRequest(q("secret", gwSecret), msg(), ""), nil},
		{"wrong secret", g, kannelRequest(msg("secret", "x"), nil, ""), ErrForbidden},
		{"no secret", g, kannelRequest(msg(), nil, ""), ErrForbidden},
		{"a prefix of the secret", g, kannelRequest(msg("secret", gwSecret[:2]), nil, ""), ErrForbidden},
		{"a wrong header wins over a right argument", g, kannelRequest(msg("secret", gwSecret), nil, "x"), ErrForbidden},
		{"no secret configured", &Kannel{}, kannelRequest(msg("secret", ""), nil, ""), ErrForbidden},
	}
	for _, tt := range auth {
		t.Run("authenticate/"+tt.name, func(t *testing.T) {
			wantErr(t, tt.g.Authenticate(tt.r), tt.want)
		})
	}

	decode := []struct {
		name    string
		r       *Request
		want    Message
		id      string
		invalid bool
	}{
		{"GET", kannelRequest(msg(), nil, ""), Message{From: "+923001234568", Body: "HELP"}, "", false},
		{"POST", kannelRequest(url.Values{}, msg(), ""), Message{From: "+923001234568", Body: "HELP"}, "", false},
		{"the query wins over the form", kannelRequest(q("text", "ME"), msg(), ""), Message{From: "+923001234568", Body: "ME"}, "", false},
		{"an empty text", kannelRequest(q("from", "03001234568"), nil, ""), Message{From: "03001234568"}, "", false},
		{"with its ID", kannelRequest(msg("id", gwKID), nil, ""), Message{From: "+923001234568", Body: "HELP"}, gwKID, false},
		{"ID in the form", kannelRequest(url.Values{}, msg("id", gwKID), ""), Message{From: "+923001234568", Body: "HELP"}, gwKID, false},
		{"ID not a UUID", kannelRequest(msg("id", "12345"), nil, ""), Message{}, "", true},
		{"ID without dashes", kannelRequest(msg("id", strings.ReplaceAll(gwKID, "-", "")), nil, ""), Message{}, "", true},
		{"ID one short", kannelRequest(msg("id", gwKID[:35]), nil, ""), Message{}, "", true},
	}
	for _, tt := range decode {
		t.Run("decode/"+tt.name, func(t *testing.T) {
			m, id, err := g.Decode(tt.r)
			if tt.invalid {
				wantInvalid(t, err, "id is not a Kannel message ID (%I: a UUID)")
				return
			}
			if err != nil || id != tt.id || m != tt.want {
				t.Fatalf("Decode = %+v, %q, %v; want %+v, %q", m, id, err, tt.want, tt.id)
			}
		})
	}

	render := []struct {
		name   string
		reply  Reply
		body   string
		coding string // X-Kannel-Coding; "" for none
	}{
		{"GSM 7-bit", Reply{Text: "Khabardar checks"}, "Khabardar checks", "0"},
		{"UCS-2 coding", Reply{Text: "ٹھیک ہے", UCS2: true}, "ٹھیک ہے", "2"},
		{"silent: an empty body, no coding", Reply{Text: "not sent", UCS2: true, Silent: true}, "", ""},
	}
	for _, tt := range render {
		t.Run("render/"+tt.name, func(t *testing.T) {
			resp := g.Render(tt.reply)
			if resp.Status != 0 || resp.ContentType != "text/plain; charset=utf-8" || string(resp.Body) != tt.body || resp.Header.Get("X-Kannel-Coding") != tt.coding {
				t.Fatalf("Render = %+v, body %q", resp, resp.Body)
			}
		})
	}
}

// wantErr checks an Authenticate error against nil, ErrForbidden or a
// *MediaTypeError.
func wantErr(t *testing.T, got, want error) {
	t.Helper()
	var gm, wm *MediaTypeError
	switch {
	case errors.As(want, &wm):
		if !errors.As(got, &gm) || *gm != *wm {
			t.Fatalf("Authenticate = %v, want %v", got, want)
		}
	case !errors.Is(got, want) || (want == nil) != (got == nil):
		t.Fatalf("Authenticate = %v, want %v", got, want)
	}
}

// wantInvalid checks that err is EINVALID with the stable message the HTTP
// layer answers 400 with.
func wantInvalid(t *testing.T, err error, message string) {
	t.Helper()
	if khabardar.ErrorCode(err) != khabardar.EINVALID || khabardar.ErrorMessage(err) != message {
		t.Fatalf("Decode error %v, want %s %q", err, khabardar.EINVALID, message)
	}
}

// FuzzGateway feeds both gateways requests built from arbitrary query
// strings, bodies and headers: Authenticate and Decode never panic,
// Authenticate passes only the configured secret or a valid signature, and
// Decode either refuses with EINVALID or returns an ID Service.Replayed can
// remember (the gateway's own form) or, for Kannel, none. Render keeps the
// text as the gateway sends it. Seeds: testdata/fuzz/FuzzGateway.
func FuzzGateway(f *testing.F) {
	signed := twilioForm(testSID)
	f.Add("", signed.Encode(), gwForm, TwilioSignature(gwToken, gwPublic+"/v1/sms/twilio", signed), "HELP")
	f.Add("from=%2B923001234568&text=HELP&secret=sec&id="+gwKID, "", "", "", "ٹھیک ہے")
	f.Add("from=1&text=2", "id=x&secret=sec", gwForm, "sec", "<&>")
	f.Add("a=%zz&b", "MessageSid=SM%00;x", gwForm+";charset=utf-8", "\x00", "\x00\uFFFF")
	twilio, kannel := &Twilio{AuthToken: gwToken, PublicURL: gwPublic}, &Kannel{Secret: gwSecret}
	f.Fuzz(func(t *testing.T, query, body, contentType, header, text string) {
		q, _ := url.ParseQuery(query) // what parsed, as a server keeps it
		form, _ := url.ParseQuery(body)
		r := &Request{Method: "POST", RequestURI: "/v1/sms/twilio?" + query, ContentType: contentType,
			Header: http.Header{"X-Twilio-Signature": {header}, "X-Khabardar-Secret": {header}}, Query: q, Form: form, Body: []byte(body)}

		for _, g := range []Gateway{twilio, kannel} {
			err := g.Authenticate(r)
			var mt *MediaTypeError
			if err != nil && err != ErrForbidden && !errors.As(err, &mt) {
				t.Fatalf("%s: Authenticate = %v", g.Name(), err)
			}
			m, id, err := g.Decode(r)
			if err != nil {
				if khabardar.ErrorCode(err) != khabardar.EINVALID || id != "" {
					t.Fatalf("%s: Decode = %q, %v", g.Name(), id, err)
				}
				continue
			}
			if m.Gateway != "" {
				t.Fatalf("%s: Decode set Gateway %q", g.Name(), m.Gateway)
			}
			switch g {
			case twilio:
				if !ValidTwilioSID(id) || m.From != form.Get("From") || m.Body != form.Get("Body") {
					t.Fatalf("twilio: Decode = %+v, %q", m, id)
				}
			case kannel:
				if id != "" && !ValidKannelID(id) || m.From != kannelArg(r, "from") || m.Body != kannelArg(r, "text") {
					t.Fatalf("kannel: Decode = %+v, %q", m, id)
				}
			}
		}
		// Kannel's secret is compared whole: only the configured one passes.
		if kannel.Authenticate(r) == nil && header != gwSecret && (header != "" || kannelArg(r, "secret") != gwSecret) {
			t.Fatalf("kannel: authenticated with header %q, argument %q", header, kannelArg(r, "secret"))
		}
		if twilio.Authenticate(r) == nil && header != TwilioSignature(gwToken, gwPublic+r.RequestURI, form) {
			// ValidTwilio also takes the URL with :443 added or a port removed.
			if header != TwilioSignature(gwToken, withPort(gwPublic+r.RequestURI), form) {
				t.Fatalf("twilio: authenticated with signature %q", header)
			}
		}

		reply := Reply{Text: text, UCS2: Encoding(text) == UCS2}
		if got := kannel.Render(reply); string(got.Body) != text || got.Header.Get("X-Kannel-Coding") != reply.KannelCoding() {
			t.Fatalf("kannel: Render = %+v", got)
		}
		if got := twilio.Render(reply); string(got.Body) != string(TwiML(text)) {
			t.Fatalf("twilio: Render = %q", got.Body)
		}
		for _, g := range []Gateway{twilio, kannel} {
			if got := g.Render(Reply{Text: text, Silent: true}); g == kannel && len(got.Body) != 0 || g == twilio && string(got.Body) != string(TwiML("")) {
				t.Fatalf("%s: silent Render = %q", g.Name(), got.Body)
			}
		}
	})
}

// TestKannelSend checks the sendsms request Send makes and how it reads
// Kannel's answers, against a fake smsbox.
func TestKannelSend(t *testing.T) {
	var got url.Values
	var path string
	status := http.StatusAccepted
	box := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, path = r.URL.Query(), r.URL.Path
		w.WriteHeader(status)
		io.WriteString(w, "0: Accepted for delivery")
	}))
	defer box.Close()
	k := &Kannel{Secret: gwSecret, SendURL: box.URL + "/", Username: "khabardar", Password: "pw"}
	ctx := context.Background()

	tests := []struct {
		name   string
		k      *Kannel
		status int
		to     string
		text   string
		code   string // error code; "" for success
		coding string // the coding sent, on success
	}{
		{"GSM 7-bit", k, 202, "+923001234567", "Khabardar: your CNIC is in 2 listings", "", "0"},
		{"UCS-2 coding for Urdu", k, 202, "923001234567", "آپ کا شناختی کارڈ", "", "2"},
		{"queued for later: 202 too", k, 202, "03001234567", "hi", "", "0"},
		{"not a number", k, 202, "0300-1234567", "hi", khabardar.EINVALID, ""},
		{"no number", k, 202, "", "hi", khabardar.EINVALID, ""},
		{"no text", k, 202, "+923001234567", "", khabardar.EINVALID, ""},
		{"Kannel refuses the message", k, 400, "+923001234567", "hi", khabardar.EINVALID, ""},
		{"wrong credentials", k, 403, "+923001234567", "hi", khabardar.EINTERNAL, ""},
		{"Kannel's queue is full", k, 503, "+923001234567", "hi", khabardar.EUNAVAILABLE, ""},
		{"not configured", &Kannel{Secret: gwSecret}, 202, "+923001234567", "hi", khabardar.EINTERNAL, ""},
		{"cannot be reached", &Kannel{SendURL: "http://127.0.0.1:1"}, 202, "+923001234567", "hi", khabardar.EUNAVAILABLE, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, status = nil, tt.status
			err := tt.k.Send(ctx, tt.to, tt.text)
			if khabardar.ErrorCode(err) != tt.code {
				t.Fatalf("Send = %v, want code %q", err, tt.code)
			}
			if err != nil {
				// The URL carries the number, the text and the password.
				if msg := err.Error(); strings.Contains(msg, "pw") || tt.to != "" && strings.Contains(msg, tt.to) || strings.Contains(msg, "cgi-bin") {
					t.Fatalf("the error says too much: %v", err)
				}
				return
			}
			want := url.Values{"username": {"khabardar"}, "password": {"pw"}, "to": {tt.to}, "text": {tt.text}, "charset": {"UTF-8"}, "coding": {tt.coding}}
			if path != "/cgi-bin/sendsms" || got.Encode() != want.Encode() {
				t.Fatalf("sendsms request %s?%v, want %v", path, got, want)
			}
		})
	}
}

// TestTwilioWhatsApp: a WhatsApp message through Twilio's webhook is from
// the whatsapp:-stripped number, so ME checks it and its limits and
// language are the number's own; a plain SMS sender is kept as sent.
func TestTwilioWhatsApp(t *testing.T) {
	for _, tt := range []struct{ from, want string }{
		{"whatsapp:+923001234567", "+923001234567"},
		{"+923001234567", "+923001234567"},
		{"whatsapp:", ""},
	} {
		f := twilioForm(testSID)
		f.Set("From", tt.from)
		f.Set("To", "whatsapp:+14155238886")
		m, _, err := (&Twilio{}).Decode(twilioRequest(f, gwForm, "/v1/sms/twilio", ""))
		if err != nil || m.From != tt.want {
			t.Errorf("From %q: decoded %q, %v; want %q", tt.from, m.From, err, tt.want)
		}
	}
	e := newEnv(t, generous)
	own := e.mustSend("+923001234567", "ME")
	if own.Text == textsFor("en").notMobile || own.Text == textsFor("en").otherPhone {
		t.Errorf("ME from a WhatsApp number: %q", own.Text)
	}
	if e.svc.SenderHash(twilioSender("whatsapp:+923001234567")) != e.svc.SenderHash("0300-1234567") {
		t.Error("a WhatsApp sender is not the same sender as the number's SMS")
	}
}
