package adminsock

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/khabardar/khabardar"
)

// ErrNoServer is Dial's error when no server listens on the socket: there
// is no socket file, or its server has died. Its code is ENOTFOUND. The CLI
// then opens the store directly.
var ErrNoServer = khabardar.Errorf(khabardar.ENOTFOUND, "no khabardar serve is running for this data directory")

// Client is a khabardar.Store whose every call is a request to a Server on
// the admin socket. It is safe for concurrent use. Close releases the
// client's connections only: the store stays open in the serving process.
type Client struct {
	path   string
	http   *http.Client
	info   Info
	closed atomic.Bool
}

var (
	_ khabardar.Store        = (*Client)(nil)
	_ khabardar.PrefStore    = (*Client)(nil)
	_ khabardar.ReplayStore  = (*Client)(nil)
	_ khabardar.WatchMatcher = (*Client)(nil)
)

// Dial connects to the server on the admin socket at path and asks who it
// is, within a few seconds. It returns ErrNoServer (errors.Is) when nobody
// answers there, EINVALID when path is not a socket, and EUNAVAILABLE when
// the socket belongs to another user (a process that could put it there
// could be anyone's) or its server speaks another admin protocol.
func Dial(path string) (*Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	return DialContext(ctx, path)
}

// DialContext is Dial within ctx rather than Dial's few seconds.
func DialContext(ctx context.Context, path string) (*Client, error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, ErrNoServer
	case err != nil:
		return nil, unavailable(fmt.Sprintf("cannot read the admin socket %s", path), err)
	case fi.Mode().Type() != os.ModeSocket:
		return nil, khabardar.Errorf(khabardar.EINVALID, "%s is not a socket; move it away", path)
	case !ownedByUs(fi):
		return nil, khabardar.Errorf(khabardar.EUNAVAILABLE, "the admin socket %s belongs to another user; refusing to use it", path)
	case len(path) > maxPathLen:
		return nil, khabardar.Errorf(khabardar.EINVALID, "the admin socket path %s is too long for a Unix socket", path)
	}
	c := &Client{path: path, http: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		Proxy:               nil, // never: the socket is the only way out
		DisableCompression:  true,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}}}
	if err := c.do(ctx, mInfo, noRequest{}, &c.info); err != nil {
		c.http.CloseIdleConnections()
		if noServer(err) {
			return nil, ErrNoServer
		}
		return nil, err
	}
	if c.info.Protocol != Protocol {
		c.http.CloseIdleConnections()
		return nil, khabardar.Errorf(khabardar.EUNAVAILABLE,
			"the khabardar serve running for this data directory (pid %d) speaks admin protocol %d and this khabardar %d: stop it, or use the binary it runs",
			c.info.PID, c.info.Protocol, Protocol)
	}
	return c, nil
}

// noServer reports whether err says nobody listens on the socket.
func noServer(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT)
}

// Info describes the serving process, as it answered Dial.
func (c *Client) Info() Info { return c.info }

// Path is the socket's path.
func (c *Client) Path() string { return c.path }

// do sends one request and decodes the answer into resp (nil: discard it).
// A server's error comes back as the *khabardar.Error it was, by code and
// message; a broken connection is EUNAVAILABLE (errors.Is still finds a
// context's error in it).
func (c *Client) do(ctx context.Context, name string, req, resp any) error {
	if c.closed.Load() {
		return khabardar.Errorf(khabardar.EUNAVAILABLE, "the admin client is closed")
	}
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("%w: %w", khabardar.Errorf(khabardar.EINTERNAL, "admin request %s cannot be encoded", name), err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://khabardar-admin/v1/"+name, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %w", khabardar.Errorf(khabardar.EINTERNAL, "admin request %s cannot be made", name), err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hres, err := c.http.Do(hreq)
	if err != nil {
		return unavailable(fmt.Sprintf("the khabardar serve on %s did not answer", c.path), err)
	}
	defer hres.Body.Close()
	r := io.LimitReader(hres.Body, maxResponse)
	if hres.StatusCode != http.StatusOK {
		var e errorResponse
		if err := json.NewDecoder(r).Decode(&e); err != nil || e.Error.Code == "" {
			return khabardar.Errorf(khabardar.EUNAVAILABLE, "the khabardar serve on %s answered %s", c.path, hres.Status)
		}
		return &khabardar.Error{Code: e.Error.Code, Message: e.Error.Message}
	}
	if resp == nil {
		_, err = io.Copy(io.Discard, r)
	} else {
		err = json.NewDecoder(r).Decode(resp)
	}
	if err != nil {
		return unavailable(fmt.Sprintf("the answer of the khabardar serve on %s was cut short", c.path), err)
	}
	return nil
}

// Init checks that the served store has layout (it was bound when serve
// started): ELAYOUTMISMATCH if not.
func (c *Client) Init(ctx context.Context, layout khabardar.Layout) error {
	return c.do(ctx, mInit, initRequest{Layout: layout}, nil)
}

// PutListing validates l here first: a Date that did not parse is kept in
// a field that JSON does not carry, so the store could not see it.
func (c *Client) PutListing(ctx context.Context, l *khabardar.Listing) error {
	if l == nil {
		return khabardar.Errorf(khabardar.EINVALID, "listing: nil")
	}
	if err := l.Validate(); err != nil {
		return err
	}
	return c.do(ctx, mPutListing, listingRequest{Listing: l}, nil)
}

func (c *Client) Listing(ctx context.Context, id string) (*khabardar.Listing, error) {
	var l khabardar.Listing
	if err := c.do(ctx, mListing, idRequest{ID: id}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

func (c *Client) Listings(ctx context.Context) ([]*khabardar.Listing, error) {
	var r listingsResponse
	if err := c.do(ctx, mListings, noRequest{}, &r); err != nil {
		return nil, err
	}
	if r.Listings == nil {
		r.Listings = []*khabardar.Listing{}
	}
	return r.Listings, nil
}

func (c *Client) RemoveListing(ctx context.Context, id string) error {
	return c.do(ctx, mRemoveListing, idRequest{ID: id}, nil)
}

// AddExposures sends the batch in one request, so that the store takes or
// refuses it whole, as in process. EINVALID for a batch over the socket's
// limit (about a million exposures): ingest's batches are a tenth of it.
func (c *Client) AddExposures(ctx context.Context, listingID string, batch []khabardar.Exposure) (khabardar.Counts, error) {
	recs, err := EncodeRecords(batch)
	if err != nil {
		return khabardar.Counts{}, err
	}
	if base64.StdEncoding.EncodedLen(len(recs)) > maxExposuresBody-1024 {
		return khabardar.Counts{}, khabardar.Errorf(khabardar.EINVALID,
			"a batch of %d exposures is over the admin socket's limit of %d MiB; use smaller batches", len(batch), maxExposuresBody>>20)
	}
	var counts khabardar.Counts
	err = c.do(ctx, mAddExposures, exposuresRequest{ListingID: listingID, Records: recs}, &counts)
	return counts, err
}

// MatchWatches has the serving process match the batch against its
// store's watches (khabardar.WatchMatcher), as ingest does in process.
func (c *Client) MatchWatches(ctx context.Context, listingID string, batch []khabardar.Exposure) (int, error) {
	recs, err := EncodeRecords(batch)
	if err != nil {
		return 0, err
	}
	var n int
	err = c.do(ctx, mMatchWatches, exposuresRequest{ListingID: listingID, Records: recs}, &n)
	return n, err
}

// AlertStats counts the serving store's subscribers, watches and queued
// alerts.
func (c *Client) AlertStats(ctx context.Context) (khabardar.AlertStats, error) {
	var st khabardar.AlertStats
	err := c.do(ctx, mAlertStats, noRequest{}, &st)
	return st, err
}

// SendAlerts has the serving process run one pass of its alert worker and
// decodes what it did into out. ECONFLICT if it sends no alerts.
func (c *Client) SendAlerts(ctx context.Context, out any) error {
	return c.do(ctx, mSendAlerts, noRequest{}, out)
}

func (c *Client) Recount(ctx context.Context, listingID string) (khabardar.Counts, error) {
	var counts khabardar.Counts
	err := c.do(ctx, mRecount, idRequest{ID: listingID}, &counts)
	return counts, err
}

func (c *Client) Bucket(ctx context.Context, prefix string) ([]khabardar.Entry, error) {
	var r bucketResponse
	if err := c.do(ctx, mBucket, bucketRequest{Prefix: prefix}, &r); err != nil {
		return nil, err
	}
	out := make([]khabardar.Entry, len(r.Entries))
	for i, e := range r.Entries {
		out[i] = khabardar.Entry(e)
	}
	return out, nil
}

// Ping asks the server to ping its store.
func (c *Client) Ping(ctx context.Context) error { return c.do(ctx, mPing, noRequest{}, nil) }

// Close releases the client's connections; the served store stays open.
func (c *Client) Close() error {
	c.closed.Store(true)
	c.http.CloseIdleConnections()
	return nil
}

// PutAPIKey sends the key's hash, never a secret: khabardar.APIKey has no
// field for one.
func (c *Client) PutAPIKey(ctx context.Context, k *khabardar.APIKey) error {
	if k == nil {
		return khabardar.Errorf(khabardar.EINVALID, "api key: nil")
	}
	return c.do(ctx, mPutAPIKey, apiKeyRequest{Key: toWireKey(k)}, nil)
}

func (c *Client) APIKeyByHash(ctx context.Context, hash []byte) (*khabardar.APIKey, error) {
	var k apiKey
	if err := c.do(ctx, mAPIKeyByHash, hashRequest{Hash: hash}, &k); err != nil {
		return nil, err
	}
	return fromWireKey(&k), nil
}

func (c *Client) APIKeys(ctx context.Context) ([]*khabardar.APIKey, error) {
	var r apiKeysResponse
	if err := c.do(ctx, mAPIKeys, noRequest{}, &r); err != nil {
		return nil, err
	}
	out := make([]*khabardar.APIKey, len(r.Keys))
	for i, k := range r.Keys {
		out[i] = fromWireKey(k)
	}
	return out, nil
}

func (c *Client) RevokeAPIKey(ctx context.Context, id string) error {
	return c.do(ctx, mRevokeAPIKey, idRequest{ID: id}, nil)
}

func (c *Client) SMSLanguage(ctx context.Context, senderHash string, retain time.Duration) (string, error) {
	var r langResponse
	if err := c.do(ctx, mSMSLanguage, smsLanguageRequest{SenderHash: senderHash, Retain: retain}, &r); err != nil {
		return "", err
	}
	return r.Lang, nil
}

func (c *Client) SetSMSLanguage(ctx context.Context, senderHash, lang string, retain time.Duration) error {
	return c.do(ctx, mSetSMSLanguage, smsLanguageRequest{SenderHash: senderHash, Lang: lang, Retain: retain}, nil)
}

func (c *Client) FirstSeen(ctx context.Context, hash string, ttl time.Duration) (bool, error) {
	var r firstSeenResponse
	if err := c.do(ctx, mFirstSeen, firstSeenRequest{Hash: hash, TTL: ttl}, &r); err != nil {
		return false, err
	}
	return r.New, nil
}
