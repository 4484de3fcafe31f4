package adminsock

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/boltstore"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/ingest"
	"github.com/khabardar/khabardar/internal/fixture"
	"github.com/khabardar/khabardar/internal/logtest"
	"github.com/khabardar/khabardar/storetest"
)

// wiretap records every byte that crosses its listener's connections, both
// ways.
type wiretap struct {
	net.Listener
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *wiretap) Accept() (net.Conn, error) {
	c, err := w.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &tappedConn{Conn: c, tap: w}, nil
}

func (w *wiretap) record(p []byte) {
	w.mu.Lock()
	w.buf.Write(p)
	w.mu.Unlock()
}

func (w *wiretap) bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.buf.Bytes())
}

type tappedConn struct {
	net.Conn
	tap *wiretap
}

func (c *tappedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.tap.record(p[:n])
	return n, err
}

func (c *tappedConn) Write(p []byte) (int, error) {
	c.tap.record(p)
	return c.Conn.Write(p)
}

// TestOnlyHashesCross runs a real ingest of sentinel identifiers, and the
// creation of an API key, through the socket, recording every byte both
// ways and every log line: no identifier crosses in any form (as written,
// canonical, digits only), no API-key secret, and the log holds neither
// those nor the hashes that did cross.
func TestOnlyHashesCross(t *testing.T) {
	ctx := context.Background()
	key, err := hashing.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	layout := khabardar.Layout{KeyID: key.ID(), BucketBits: 16, SuffixBytes: 8}

	// The serving side: a bolt store behind a tapped socket.
	dir := t.TempDir()
	st, err := boltstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Init(ctx, layout); err != nil {
		t.Fatal(err)
	}
	logs := &logtest.Buffer{}
	srv := NewServer(Config{Store: st, Log: slogTo(logs)})
	ln, err := Listen(SocketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	tap := &wiretap{Listener: ln}
	go srv.Serve(tap)
	defer srv.Close()

	// The CLI's side: the key, the file and the client.
	c, err := Dial(SocketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Init(ctx, layout); err != nil {
		t.Fatal(err)
	}
	if err := c.PutListing(ctx, storetest.NewListing("sentinels")); err != nil {
		t.Fatal(err)
	}
	var raws []string
	var file strings.Builder
	file.WriteString("name,cnic,phone,imei\n")
	for i := range 300 {
		row := []string{fmt.Sprintf("SENTINELNAME%d", i), fixture.CNIC(i + 1000), fixture.Phone(i + 7_654_321), fixture.IMEI(i + 4242)}
		file.WriteString(strings.Join(row, ",") + "\n")
		raws = append(raws, row...)
	}
	path := filepath.Join(t.TempDir(), "leak.csv")
	if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	sum, err := ingest.Run(ctx, ingest.Config{Store: c, Key: key, Layout: layout, ListingID: "sentinels", BatchSize: 256}, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	if sum.New.Total() != 900 || sum.ListingCounts != (khabardar.Counts{identifier.CNIC: 300, identifier.Phone: 300, identifier.IMEI: 300}) {
		t.Fatalf("ingest through the socket: new %+v, listing %+v", sum.New, sum.ListingCounts)
	}

	secret := "khk_SENTINELSECRET0123456789abcdef"
	apiHash := key.Keyed("api-key").Sum([]byte(secret))
	if err := c.PutAPIKey(ctx, &khabardar.APIKey{ID: "ak_sentinel", Name: "a journalist", Hash: apiHash,
		Rate: "100-H", MaxBatch: 100, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}

	// Every form a value could take.
	var forbidden []string
	for _, raw := range raws {
		forbidden = append(forbidden, raw)
		if d := digits(raw); len(d) >= 10 {
			forbidden = append(forbidden, d)
		}
		if id, err := identifier.Parse(identifier.Unknown, identifier.Raw(raw)); err == nil {
			forbidden = append(forbidden, string(id.Canonical()))
		}
	}
	forbidden = append(forbidden, secret, "SENTINEL")
	wire := tap.bytes()
	for _, f := range forbidden {
		if bytes.Contains(wire, []byte(f)) {
			t.Fatalf("%q crossed the socket", f)
		}
	}
	if !bytes.Contains(wire, []byte(base64.StdEncoding.EncodeToString(apiHash))) {
		t.Fatal("the API key's hash is not in the recording: the tap missed the traffic")
	}

	// The log: no value, no hash, and only the fields logRequest writes.
	var hashes []string
	for _, raw := range raws[:12] {
		id, err := identifier.Parse(identifier.Unknown, identifier.Raw(raw))
		if err != nil {
			continue
		}
		x, err := key.Exposure(id, layout)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, hex.EncodeToString(x.Suffix), base64.StdEncoding.EncodeToString(x.Suffix))
	}
	hashes = append(hashes, hex.EncodeToString(apiHash), base64.StdEncoding.EncodeToString(apiHash))
	log := logs.String()
	for _, f := range append(forbidden, hashes...) {
		if strings.Contains(log, f) {
			t.Fatalf("the log holds %q:\n%s", f, log)
		}
	}
	allowed := map[string]bool{"time": true, "level": true, "msg": true, "method": true, "n": true, "code": true, "ms": true}
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		for k := range fields {
			if !allowed[k] {
				t.Errorf("log line has field %q: %s", k, line)
			}
		}
	}
}

// digits keeps the digits of s.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
