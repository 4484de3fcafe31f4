package adminsock

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/khabardar/khabardar"
)

// Config is what a Server needs. Store is required.
type Config struct {
	// Store is the serving process's store: every request is a call on it.
	Store khabardar.Store

	// Info describes the serving process to clients (Client.Info); the
	// server sets its Protocol and PID.
	Info Info

	// OnBuckets, if set, is called after a write changed buckets, before
	// the client gets its answer, so that the serving process stops serving
	// them from a cache at once: after an AddExposures that added anything,
	// with the batch's distinct prefixes, sorted; after a RemoveListing,
	// with nil, meaning every bucket. It runs on the request's goroutine,
	// possibly on several at once, and must be quick and must not panic.
	OnBuckets func(prefixes []string)

	// OnListings, if set, is called after a write changed a listing's
	// metadata or counts (PutListing, RemoveListing, an AddExposures that
	// added anything, Recount), like OnBuckets.
	OnListings func()
	// OnAlerts, if set, is called after a match queued alerts, so that the
	// serving process's alert worker sends them now rather than at its
	// next poll.
	OnAlerts func()
	// SendAlerts, if set, runs one pass of the serving process's alert
	// worker (khabardar alerts send-pending) and returns what it did, as
	// JSON-encodable counts; nil: the server sends no alerts.
	SendAlerts func(ctx context.Context) (any, error)

	// Log gets one line per request: the method, the number of exposures
	// for AddExposures, the error code and the time taken; never a value.
	// Writes are logged at Info, reads at Debug, faults at Warn with the
	// store's error. Nil: slog.Default().
	Log *slog.Logger
}

// Server serves a store on the admin socket: one POST endpoint per Store
// method, JSON in and out (see wire.go), over net/http.
type Server struct {
	cfg     Config
	info    Info
	methods map[string]method
	http    *http.Server
}

// method is one endpoint: its request type, body limit and call.
type method struct {
	limit  int64
	write  bool // logged at Info
	newReq func() any
	call   func(ctx context.Context, req any) (resp any, n int, err error)
}

func endpoint[Req any](limit int64, write bool, fn func(ctx context.Context, req *Req) (any, int, error)) method {
	return method{
		limit: limit, write: write,
		newReq: func() any { return new(Req) },
		call:   func(ctx context.Context, req any) (any, int, error) { return fn(ctx, req.(*Req)) },
	}
}

// NewServer returns a server of cfg.Store. Serve it on Listen's listener.
func NewServer(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Server{cfg: cfg, info: cfg.Info}
	s.info.Protocol, s.info.PID = Protocol, os.Getpid()
	s.methods = s.endpoints()
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		// A whole batch at the socket's speed takes well under a second;
		// the bound is for a client that stalls mid-body. No WriteTimeout:
		// it would count the store's time, and a RemoveListing of a large
		// listing may take minutes.
		ReadTimeout:    2 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 16 << 10,
		ErrorLog:       slog.NewLogLogger(cfg.Log.Handler(), slog.LevelWarn),
	}
	return s
}

// Serve answers requests on ln until Shutdown or Close, which close ln
// (and so remove Listen's socket file). It returns nil after those.
func (s *Server) Serve(ln net.Listener) error {
	err := s.http.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and waits for requests in flight, whose writes
// then complete: call it before closing the store.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }

// Close stops at once, dropping connections; a write in flight still
// completes in the store, or not at all.
func (s *Server) Close() error { return s.http.Close() }

func (s *Server) endpoints() map[string]method {
	st := s.cfg.Store
	return map[string]method{
		mInfo: endpoint(maxBody, false, func(context.Context, *noRequest) (any, int, error) {
			return s.info, 0, nil
		}),
		mInit: endpoint(maxBody, false, func(ctx context.Context, r *initRequest) (any, int, error) {
			return nil, 0, st.Init(ctx, r.Layout)
		}),
		mPutListing: endpoint(maxBody, true, func(ctx context.Context, r *listingRequest) (any, int, error) {
			if r.Listing == nil {
				return nil, 0, khabardar.Errorf(khabardar.EINVALID, "admin request: no listing")
			}
			if err := st.PutListing(ctx, r.Listing); err != nil {
				return nil, 0, err
			}
			s.listingsChanged()
			return nil, 0, nil
		}),
		mListing: endpoint(maxBody, false, func(ctx context.Context, r *idRequest) (any, int, error) {
			l, err := st.Listing(ctx, r.ID)
			return l, 0, err
		}),
		mListings: endpoint(maxBody, false, func(ctx context.Context, _ *noRequest) (any, int, error) {
			ls, err := st.Listings(ctx)
			return listingsResponse{Listings: ls}, len(ls), err
		}),
		mRemoveListing: endpoint(maxBody, true, func(ctx context.Context, r *idRequest) (any, int, error) {
			if err := st.RemoveListing(ctx, r.ID); err != nil {
				return nil, 0, err
			}
			s.bucketsChanged(nil)
			s.listingsChanged()
			return nil, 0, nil
		}),
		mAddExposures: endpoint(maxExposuresBody, false, func(ctx context.Context, r *exposuresRequest) (any, int, error) {
			batch, err := DecodeRecords(r.Records)
			if err != nil {
				return nil, 0, err
			}
			c, err := st.AddExposures(ctx, r.ListingID, batch)
			if err != nil {
				return nil, len(batch), err
			}
			if c.Total() > 0 { // nothing new: no bucket changed
				s.bucketsChanged(prefixesOf(batch))
				s.listingsChanged()
			}
			return c, len(batch), nil
		}),
		mMatchWatches: endpoint(maxExposuresBody, false, func(ctx context.Context, r *exposuresRequest) (any, int, error) {
			batch, err := DecodeRecords(r.Records)
			if err != nil {
				return nil, 0, err
			}
			as, ok := st.(khabardar.AlertStore)
			if !ok {
				return 0, len(batch), nil // a store without alerts has nobody to tell
			}
			n, err := as.MatchWatches(ctx, r.ListingID, batch)
			if n > 0 && s.cfg.OnAlerts != nil {
				s.cfg.OnAlerts()
			}
			return n, len(batch), err
		}),
		mSendAlerts: endpoint(maxBody, true, func(ctx context.Context, _ *noRequest) (any, int, error) {
			if s.cfg.SendAlerts == nil {
				return nil, 0, khabardar.Errorf(khabardar.ECONFLICT, "the running server sends no alerts: it has no outbound SMS gateway or no KHABARDAR_ALERTS_SECRET")
			}
			p, err := s.cfg.SendAlerts(ctx)
			return p, 0, err
		}),
		mAlertStats: endpoint(maxBody, false, func(ctx context.Context, _ *noRequest) (any, int, error) {
			as, ok := st.(khabardar.AlertStore)
			if !ok {
				return khabardar.AlertStats{}, 0, nil
			}
			st, err := as.AlertStats(ctx)
			return st, 0, err
		}),
		mRecount: endpoint(maxBody, true, func(ctx context.Context, r *idRequest) (any, int, error) {
			c, err := st.Recount(ctx, r.ID)
			if err != nil {
				return nil, 0, err
			}
			s.listingsChanged()
			return c, 0, nil
		}),
		mBucket: endpoint(maxBody, false, func(ctx context.Context, r *bucketRequest) (any, int, error) {
			es, err := st.Bucket(ctx, r.Prefix)
			if err != nil {
				return nil, 0, err
			}
			out := bucketResponse{Entries: make([]entry, len(es))}
			for i, e := range es {
				out.Entries[i] = entry(e)
			}
			return out, len(es), nil
		}),
		mPing: endpoint(maxBody, false, func(ctx context.Context, _ *noRequest) (any, int, error) {
			return nil, 0, st.Ping(ctx)
		}),
		mPutAPIKey: endpoint(maxBody, true, func(ctx context.Context, r *apiKeyRequest) (any, int, error) {
			if r.Key == nil {
				return nil, 0, khabardar.Errorf(khabardar.EINVALID, "admin request: no key")
			}
			return nil, 0, st.PutAPIKey(ctx, fromWireKey(r.Key))
		}),
		mAPIKeyByHash: endpoint(maxBody, false, func(ctx context.Context, r *hashRequest) (any, int, error) {
			k, err := st.APIKeyByHash(ctx, r.Hash)
			return toWireKey(k), 0, err
		}),
		mAPIKeys: endpoint(maxBody, false, func(ctx context.Context, _ *noRequest) (any, int, error) {
			ks, err := st.APIKeys(ctx)
			out := apiKeysResponse{Keys: make([]*apiKey, len(ks))}
			for i, k := range ks {
				out.Keys[i] = toWireKey(k)
			}
			return out, len(ks), err
		}),
		mRevokeAPIKey: endpoint(maxBody, true, func(ctx context.Context, r *idRequest) (any, int, error) {
			return nil, 0, st.RevokeAPIKey(ctx, r.ID)
		}),
		mSMSLanguage: endpoint(maxBody, false, func(ctx context.Context, r *smsLanguageRequest) (any, int, error) {
			ps, err := s.prefStore()
			if err != nil {
				return nil, 0, err
			}
			lang, err := ps.SMSLanguage(ctx, r.SenderHash, r.Retain)
			return langResponse{Lang: lang}, 0, err
		}),
		mSetSMSLanguage: endpoint(maxBody, false, func(ctx context.Context, r *smsLanguageRequest) (any, int, error) {
			ps, err := s.prefStore()
			if err != nil {
				return nil, 0, err
			}
			return nil, 0, ps.SetSMSLanguage(ctx, r.SenderHash, r.Lang, r.Retain)
		}),
		mFirstSeen: endpoint(maxBody, false, func(ctx context.Context, r *firstSeenRequest) (any, int, error) {
			rs, ok := st.(khabardar.ReplayStore)
			if !ok {
				return nil, 0, khabardar.Errorf(khabardar.EINTERNAL, "the served store keeps no message hashes")
			}
			isNew, err := rs.FirstSeen(ctx, r.Hash, r.TTL)
			return firstSeenResponse{New: isNew}, 0, err
		}),
	}
}

func (s *Server) prefStore() (khabardar.PrefStore, error) {
	ps, ok := s.cfg.Store.(khabardar.PrefStore)
	if !ok {
		return nil, khabardar.Errorf(khabardar.EINTERNAL, "the served store keeps no SMS preferences")
	}
	return ps, nil
}

func (s *Server) bucketsChanged(prefixes []string) {
	if s.cfg.OnBuckets != nil {
		s.cfg.OnBuckets(prefixes)
	}
}

func (s *Server) listingsChanged() {
	if s.cfg.OnListings != nil {
		s.cfg.OnListings()
	}
}

// prefixesOf returns the distinct prefixes of batch, sorted.
func prefixesOf(batch []khabardar.Exposure) []string {
	seen := make(map[string]struct{}, min(len(batch), 1<<16))
	for _, e := range batch {
		seen[e.Prefix] = struct{}{}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// ServeHTTP answers one admin request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	name, _ := strings.CutPrefix(r.URL.Path, "/v1/")
	m, ok := s.methods[name]
	var (
		resp any
		n    int
		err  error
	)
	switch {
	case !ok:
		name = "unknown" // the path is not logged: it came from the client
		err = khabardar.Errorf(khabardar.EINVALID, "admin request: no such method; this server speaks admin protocol %d", Protocol)
	case r.Method != http.MethodPost:
		err = khabardar.Errorf(khabardar.EINVALID, "admin request: the method must be POST")
	case !isJSON(r.Header.Get("Content-Type")):
		err = khabardar.Errorf(khabardar.EINVALID, "admin request: the body must be application/json")
	default:
		resp, n, err = s.call(r.Context(), m, http.MaxBytesReader(w, r.Body, m.limit), name)
	}
	s.reply(w, resp, err)
	s.logRequest(name, m.write, n, err, time.Since(start))
}

// call decodes the request and calls the store, turning a panic into
// EINTERNAL so that one bad request does not take the server down.
func (s *Server) call(ctx context.Context, m method, body io.Reader, name string) (resp any, n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Log.Error("admin request panicked", "method", name, "stack", string(debug.Stack()))
			resp, n, err = nil, 0, khabardar.Errorf(khabardar.EINTERNAL, "internal error")
		}
	}()
	req := m.newReq()
	if err := decodeStrict(body, req); err != nil {
		return nil, 0, err
	}
	return m.call(ctx, req)
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

func (s *Server) reply(w http.ResponseWriter, resp any, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusOK
	if err != nil {
		code := khabardar.ErrorCode(err)
		status = statusOf(code)
		resp = errorResponse{Error: wireError{Code: code, Message: khabardar.ErrorMessage(err)}}
	} else if resp == nil {
		resp = struct{}{}
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(resp) // a client gone away is not ours to report
}

// statusOf maps an error code to an HTTP status. The client reads the code
// from the body; the status is for humans with curl --unix-socket.
func statusOf(code string) int {
	switch code {
	case khabardar.EINVALID:
		return http.StatusBadRequest
	case khabardar.ENOTFOUND:
		return http.StatusNotFound
	case khabardar.ECONFLICT, khabardar.ELAYOUTMISMATCH, khabardar.EMIGRATE:
		return http.StatusConflict
	case khabardar.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func (s *Server) logRequest(name string, write bool, n int, err error, elapsed time.Duration) {
	code := khabardar.ErrorCode(err)
	level := slog.LevelDebug
	attrs := []slog.Attr{slog.String("method", name)}
	if n > 0 {
		attrs = append(attrs, slog.Int("n", n))
	}
	switch code {
	case "":
		if write {
			level = slog.LevelInfo
		}
	case khabardar.EINTERNAL, khabardar.EUNAVAILABLE:
		// The store's own error, which names operations and paths, never
		// values (khabardar.Errorf's rule).
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("code", code), slog.String("err", err.Error()))
	default:
		attrs = append(attrs, slog.String("code", code))
	}
	attrs = append(attrs, slog.Float64("ms", float64(elapsed.Microseconds())/1000))
	s.cfg.Log.LogAttrs(context.Background(), level, "admin request", attrs...)
}
