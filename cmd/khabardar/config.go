package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/boltstore"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/redisstore"
)

// Config is all of khabardar's configuration. Each field has a default, an
// environment variable and a flag; flags win over the environment.
type Config struct {
	DataDir     string // KHABARDAR_DATA: the embedded store's directory
	RedisURL    string // KHABARDAR_REDIS_URL: use Redis instead of the embedded store
	KeyFile     string // KHABARDAR_KEY_FILE: default <DataDir>/key.json; required with Redis
	Addr        string // KHABARDAR_ADDR: where serve listens
	BucketBits  int    // KHABARDAR_BUCKET_BITS: see README, "Choosing bucket_bits"
	SuffixBytes int    // KHABARDAR_SUFFIX_BYTES
}

// Defaults. DefaultBucketBits: with 16 bits a bucket is shared by about
// 4.5×10⁸ / 65,536 ≈ 6,900 possible mobile numbers, and at 10 million stored
// identifiers holds about 150 entries (a few KB): see README.
const (
	DefaultDataDir     = "./khabardar-data"
	DefaultAddr        = "127.0.0.1:8080"
	DefaultBucketBits  = 16
	DefaultSuffixBytes = 8
)

// newConfig returns the defaults overlaid with the environment.
func newConfig(getenv func(string) string) (*Config, error) {
	c := &Config{
		DataDir:     DefaultDataDir,
		Addr:        DefaultAddr,
		BucketBits:  DefaultBucketBits,
		SuffixBytes: DefaultSuffixBytes,
	}
	str := map[string]*string{
		"KHABARDAR_DATA":      &c.DataDir,
		"KHABARDAR_REDIS_URL": &c.RedisURL,
		"KHABARDAR_KEY_FILE":  &c.KeyFile,
		"KHABARDAR_ADDR":      &c.Addr,
	}
	for name, p := range str {
		if v := getenv(name); v != "" {
			*p = v
		}
	}
	ints := map[string]*int{"KHABARDAR_BUCKET_BITS": &c.BucketBits, "KHABARDAR_SUFFIX_BYTES": &c.SuffixBytes}
	for name, p := range ints {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("%s=%q is not a whole number", name, v)
			}
			*p = n
		}
	}
	return c, nil
}

// register adds the store and key flags to fs.
func (c *Config) register(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", c.DataDir, "embedded store directory (env KHABARDAR_DATA)")
	fs.StringVar(&c.RedisURL, "redis", c.RedisURL, "Redis URL, e.g. redis://127.0.0.1:6379/0, instead of the embedded store (env KHABARDAR_REDIS_URL)")
	fs.StringVar(&c.KeyFile, "key-file", c.KeyFile, "server key file (env KHABARDAR_KEY_FILE; default <data>/key.json; required with --redis)")
	fs.IntVar(&c.BucketBits, "bucket-bits", c.BucketBits, "bits of the VOPRF output that name a bucket, a multiple of 4 (env KHABARDAR_BUCKET_BITS)")
	fs.IntVar(&c.SuffixBytes, "suffix-bytes", c.SuffixBytes, "bytes of the VOPRF output stored per identifier, at least 8 (env KHABARDAR_SUFFIX_BYTES)")
}

// Validate checks the configuration and fills in derived defaults.
func (c *Config) Validate() error {
	if c.RedisURL == "" && c.DataDir == "" {
		return errors.New("--data is empty: name a directory for the embedded store, or use --redis")
	}
	if c.KeyFile == "" {
		if c.RedisURL != "" {
			// Every replica must evaluate with the same key: it cannot live in
			// one machine's data directory by default.
			return errors.New("--key-file (or KHABARDAR_KEY_FILE) is required with --redis: every replica must use the same key")
		}
		c.KeyFile = filepath.Join(c.DataDir, "key.json")
	}
	return khabardar.Layout{KeyID: "-", BucketBits: c.BucketBits, SuffixBytes: c.SuffixBytes}.Validate()
}

// env is what a command works with: the key, the layout and an open store.
type env struct {
	key    *hashing.Key
	layout khabardar.Layout
	store  khabardar.Store
}

// open loads (or on first use creates) the key and opens the configured
// store bound to the key's layout.
func (c *Config) open(ctx context.Context, log *slog.Logger) (*env, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	key, created, err := hashing.LoadOrCreateKey(c.KeyFile)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("created a new server key", "key_file", c.KeyFile, "key_id", key.ID())
	}
	layout := khabardar.Layout{KeyID: key.ID(), BucketBits: c.BucketBits, SuffixBytes: c.SuffixBytes}
	var s khabardar.Store
	if c.RedisURL != "" {
		s, err = redisstore.Open(ctx, c.RedisURL)
	} else {
		if err = os.MkdirAll(c.DataDir, 0o700); err == nil {
			s, err = boltstore.Open(c.DataDir)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := s.Init(ctx, layout); err != nil {
		s.Close()
		return nil, err
	}
	return &env{key: key, layout: layout, store: s}, nil
}
