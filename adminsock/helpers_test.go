package adminsock

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/boltstore"
	"github.com/khabardar/khabardar/internal/logtest"
)

// served is a Server on a real bolt store, listening on a real socket in a
// temporary directory, and a Client dialled to it.
type served struct {
	dir    string
	path   string
	store  *boltstore.Store
	server *Server
	ln     *Listener
	client *Client
	logs   *logtest.Buffer
}

// serve starts a Server on a fresh bolt store in a temporary data
// directory; edit changes its config first. The store is not Init'ed.
func serve(t testing.TB, edit ...func(*Config)) *served {
	t.Helper()
	dir := t.TempDir()
	st, err := boltstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &logtest.Buffer{}
	cfg := Config{
		Store: st,
		Info:  Info{DataDir: dir, KeyID: "test-key"},
		Log:   slogTo(logs),
	}
	for _, f := range edit {
		f(&cfg)
	}
	s := &served{dir: dir, path: SocketPath(dir), store: st, server: NewServer(cfg), logs: logs}
	s.ln, err = Listen(s.path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.server.Serve(s.ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.server.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	s.client, err = Dial(s.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.client.Close() })
	return s
}

// slogTo logs every level as JSON lines to w.
func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func wantCode(t testing.TB, what string, err error, code string) {
	t.Helper()
	if got := khabardar.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}
