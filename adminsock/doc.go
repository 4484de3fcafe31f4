// Package adminsock is the local admin RPC of a running khabardar serve: a
// Unix socket in the data directory through which admin commands (listings,
// ingest, apikeys, stats) use the serving process's store.
//
// # Why
//
// The embedded store (boltstore) is one bbolt file that one process may
// open. While serve runs, every other command would find the data directory
// locked. So serve opens the socket (Listen, NewServer, Serve) and an admin
// command first Dials it: if a server answers, the command uses the Client,
// which implements khabardar.Store, exactly as it would use the store it
// opens itself when Dial returns ErrNoServer. The store contract (package
// storetest) passes through the socket, error codes and messages included,
// so both paths behave the same.
//
// Ingest stays in the CLI: it reads the file, holds the key file, hashes,
// and calls AddExposures and Recount over the socket. AddExposures is
// idempotent and sent whole (the store takes or refuses a batch at once),
// and Recount ends the run, so ingest keeps its exact counts when it or the
// server is killed part way: run it again.
//
// # Security model
//
// File permissions are the authentication: the socket is mode 0600 in the
// data directory (which boltstore makes 0700), so only its owner (and root,
// who can read the bbolt file anyway) can connect. Listen binds in a fresh
// 0700 directory beside the socket, sets 0600, then renames it into place,
// so that it is never reachable under the umask's looser mode, as it would
// be between a bind and a chmod. A Client refuses a socket that belongs to
// another user: whoever could place it could be anyone.
//
// Never TCP: a loopback port is open to every local user and, misconfigured,
// to the network; it would need a secret, and that secret would live in a
// file whose permissions are again the guard. The socket goes straight to
// the guard.
//
// Listen holds an flock on admin.sock.lock while it listens, so at most one
// server has the socket; a socket file nobody answers on (a killed server's)
// is stale and replaced; one that answers makes Listen fail with ECONFLICT.
// Close removes the socket only if it is still the one Listen made.
//
// # What crosses the socket
//
//   - Exposures as the VOPRF output's bucket prefix and suffix, which only
//     the server key can link to an identifier; bucket entries back.
//   - Listing metadata and counts.
//   - API keys as khabardar.APIKey: ID, holder's name, rate, and the keyed
//     hash of the secret. The type has no field for a secret: the CLI shows
//     the secret once and sends only its hash.
//   - SMS sender and message keyed hashes (PrefStore and ReplayStore, which
//     the contract covers; no admin command uses them).
//
// Never a raw identifier or its canonical form, an API-key secret or the
// server key. TestOnlyHashesCross runs a real ingest through a recorded
// socket to check it.
//
// # Wire
//
// HTTP/1.1 (net/http) over the socket: POST /v1/<method>, one per Store
// method (info, init, put-listing, listing, listings, remove-listing,
// add-exposures, recount, bucket, ping, put-api-key, api-key-by-hash,
// api-keys, revoke-api-key, sms-language, set-sms-language, first-seen),
// Content-Type application/json. A request body is exactly one JSON object
// with no unknown field, under 1 MiB (64 MiB for add-exposures, whose batch
// is packed by EncodeRecords and sent as base64: about 20 bytes an exposure
// against some 60 as JSON objects). An error is {"error":{"code","message"}}
// with the *khabardar.Error's code, which the Client returns as the same
// *khabardar.Error. Info says which process serves (pid, data directory,
// key ID, version) and its Protocol, which a Client must share. By hand:
//
//	curl --unix-socket khabardar-data/admin.sock -H 'Content-Type: application/json' -d '{}' http://admin/v1/listings
//
// # The serving process's caches
//
// Config.OnBuckets and OnListings are called after a write, before its
// answer, so that by the time an ingest's AddExposures returns the serving
// process no longer serves the old buckets from its cache: serve wires them
// to api.Server.InvalidateBuckets and InvalidateListings.
//
// # Logs
//
// One line per request: method, the number of exposures or items, the
// error code and the time; writes at Info, reads at Debug, store faults at
// Warn with the store's error. Never a request's values.
package adminsock
