package e2e

import "github.com/khabardar/khabardar/client"

// What the binary promises its users and operators, copied from
// cmd/khabardar (package main, which cannot be imported): the tests check
// the binary's output against these, so a change there is a change of
// promise and is made here too.

// Defaults (cmd/khabardar config.go and apikeys.go).
const (
	DefaultBucketBits     = 16
	DefaultSuffixBytes    = 8
	DefaultMetricsAddr    = "127.0.0.1:9464"
	DefaultAPIKeyRate     = "10000-H"
	DefaultAPIKeyMaxBatch = 1000
)

// check's exit code and words (cmd/khabardar check.go).
const (
	exitNoListings = 3
	noListings     = client.NoListings
	linkageNote    = "khabardar check: note: the server can tell these values were checked together, and the bucket numbers of two of them (say a CNIC and a mobile number) can single a person out of a leaked CNIC-SIM list; if that matters, check one value at a time, each from a different network."
)

// notFound is what check says of an identifier not found.
var notFound = client.NotFound
