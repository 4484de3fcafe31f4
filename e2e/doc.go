// Package e2e holds the system tests of the khabardar binary. TestMain
// builds cmd/khabardar once; the tests then drive it as an operator or a
// user would, over exec and loopback HTTP: end-to-end runs on the embedded
// store, Redis and a three-master Redis Cluster, faults, hostile traffic,
// privacy scans, the website in Chromium and the README's tour. Unit tests
// of the command's internals stay in cmd/khabardar. The package has no code
// of its own: only this file and tests.
//
// Run one test:
//
//	go test ./e2e -run TestCheck
//	go test ./e2e -run 'TestClusterFailover$' -v
//
// The whole package takes about 5 minutes on 2 cores. It needs
// redis-server and redis-cli on PATH (the tests start their own Redis and
// Redis Cluster on free ports), chromium, node and npm for TestSite
// (KHABARDAR_CHROMIUM names another browser), prlimit (util-linux) for
// TestIdleConnectionFlood, curl for TestReadmeTour, and Kannel (Debian's
// kannel and kannel-extras: bearerbox, smsbox, fakesmsc) for the TestKannel
// tests and TestSite's alert code (package internal/kanneltest). A missing
// tool fails its tests with the package to install; KHABARDAR_ALLOW_SKIP=1
// turns that into a skip, and KHABARDAR_REQUIRE_REDIS=1, KHABARDAR_REQUIRE_BROWSER=1 or
// KHABARDAR_REQUIRE_KANNEL=1 (set by CI) keep it a failure (package
// internal/prereq).
//
// What each file proves:
//
//	main_test.go           TestMain builds the binary; cli, a private environment (data, key file, TMPDIR) per test; stores runs a test on all three stores
//	promises_test.go       defaults and check's words copied from cmd/khabardar, which the output is checked against
//	cli_test.go            keys, listings validation and ingest: exact counts, rejections with row numbers, idempotent re-runs
//	cli_help_test.go       the binary's help, version, completion and error messages; serve binds its ports before creating anything
//	admin_test.go          the catalogue commands go through serve's admin socket, survive a stale socket, a killed ingest and a too-long path
//	api_e2e_test.go        ingested identifiers are found through the API with the client protocol, and only they; serve's flag checks
//	apikeys_test.go        apikeys create, list, revoke and their use by the API; the secret is printed once and stored only as a hash
//	check_test.go          khabardar check against serve: found, absent, invalid, batches, empty catalogue, servers that lie about bucket bits
//	listings_flag_test.go  listing flags set and cleared on both stores: counts survive, /v1/stats and check leave a fabricated listing out
//	verify_test.go         khabardar verify: plausibility tests, match shares, the HTML report, empty catalogue, bucket-bit limits
//	alerts_test.go         SMS alerts on each store through serve's worker: subscribe, an ingest alerts once, STOP, two replicas, a SIGKILL mid-send
//	kannel_test.go         a real Kannel (bearerbox, smsbox, fakesmsc as the phone): checks (found, UCS-2 Urdu intact, help, a retried delivery answered once), sms.Kannel's Send, the alert story, smsbox down; no identifier in serve's or Kannel's logs
//	passport_test.go       passport numbers, the fourth kind, on every surface
//	migrate_test.go        khabardar migrate on a store written by the format 1 code, and SIGKILLed mid-migration on each store
//	sms_test.go            the SMS channel end to end through both gateways with sms-sim: forged requests, the per-sender limit, no value left in logs or store
//	lifecycle_test.go      an ingest killed with SIGKILL re-runs to exact counts; serve starts and stops on SIGTERM on both stores
//	sigterm_test.go        SIGTERM under load: a clean exit, no request in flight cut off or failed
//	load_test.go           a bounded khabardar load against one and two servers: every check completes, memory sampled
//	metrics_test.go        /metrics only on the metrics listener, on loopback by default
//	ratelimit_e2e_test.go  two servers sharing Redis or a Cluster enforce one limit exactly; the global ceiling's reserve behind a proxy
//	fault_test.go          a paused Redis under serve: requests fail fast with 503, /readyz turns red, nothing unlimited; the same server recovers
//	outage_test.go         a Redis outage (paused, then killed) is logged once as it begins and once as it ends, however many requests fail
//	cluster_fault_test.go  a Cluster master restarted under serve: requests succeed or fail fast, then all succeed
//	cluster_failover_test.go  a Cluster master SIGKILLed under serve: 200 or 503 throughout, then all answered again, limits and data kept
//	conns_test.go          idle connection floods under an fd limit, header timeouts, per-address and total connection caps
//	hostile_test.go        decompression bombs, oversize bodies from many clients, malformed request heads
//	privacy_test.go        sentinel identifiers from every file format appear nowhere: store, raw files, output, logs, temp directory
//	site_test.go           the embedded website: served as built, within its 100 KB budget, and the browser tests in Chromium
//	tour_test.go           every tour block of the README, run in order on a fresh copy of the repository
//	proc_*_test.go         process groups, so a killed browser run leaves nothing behind
package e2e
