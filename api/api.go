// Package api is Khabardar's public HTTP API on fiber v2. It is the only
// package that imports fiber. Handlers translate HTTP to calls on the store
// and the key; errors are *khabardar.Error values mapped to statuses in one
// table (statusOf). Logs carry the route pattern, status and latency: never a
// path (a bucket prefix), a body, a query or a client address.
package api

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/hashing"
)

// Config is what the server needs.
type Config struct {
	Store    khabardar.Store
	Key      *hashing.Key
	Layout   khabardar.Layout
	MaxBatch int // most elements per evaluation request
	Log      *slog.Logger
}

// Server is the HTTP API.
type Server struct {
	cfg Config
	app *fiber.App
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 16
	}
	s := &Server{cfg: cfg}
	s.app = fiber.New(fiber.Config{
		AppName:               "khabardar",
		DisableStartupMessage: true,
		BodyLimit:             64 << 10,
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          10 * time.Second,
		IdleTimeout:           60 * time.Second,
		ErrorHandler:          s.errorHandler,
	})
	s.app.Use(s.logRequests, securityHeaders)
	s.app.Get("/healthz", s.healthz)
	s.app.Get("/readyz", s.readyz)
	v1 := s.app.Group("/v1")
	v1.Get("/config", s.config)
	v1.Get("/listings", s.listings)
	v1.Get("/listings/:id", s.listing)
	s.app.Use(func(c *fiber.Ctx) error { return khabardar.Errorf(khabardar.ENOTFOUND, "no such endpoint") })
	return s
}

// Listen serves on addr until Shutdown.
func (s *Server) Listen(addr string) error { return s.app.Listen(addr) }

// Shutdown stops accepting connections and waits for in-flight requests.
func (s *Server) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }

// App exposes the fiber app to tests (app.Test).
func (s *Server) App() *fiber.App { return s.app }

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[string]int{
	khabardar.EINVALID:        fiber.StatusBadRequest,
	khabardar.ENOTFOUND:       fiber.StatusNotFound,
	khabardar.ECONFLICT:       fiber.StatusConflict,
	khabardar.EUNAVAILABLE:    fiber.StatusServiceUnavailable,
	khabardar.ELAYOUTMISMATCH: fiber.StatusInternalServerError,
	khabardar.EINTERNAL:       fiber.StatusInternalServerError,
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// errorHandler writes every error as {"error":{"code","message"}}.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var body errorBody
	status := fiber.StatusInternalServerError
	var fe *fiber.Error
	if errors.As(err, &fe) { // fiber's own: body too large, method not allowed, …
		status = fe.Code
		body.Error.Code, body.Error.Message = fiberCode(fe.Code), fe.Message
	} else {
		body.Error.Code = khabardar.ErrorCode(err)
		body.Error.Message = khabardar.ErrorMessage(err)
		if st, ok := statusOf[body.Error.Code]; ok {
			status = st
		}
	}
	if status >= 500 {
		// The error comes from our code or the store; it names no value.
		s.cfg.Log.Error("request failed", "route", routeOf(c), "code", body.Error.Code, "err", err.Error())
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).JSON(body)
}

func fiberCode(status int) string {
	switch status {
	case fiber.StatusRequestEntityTooLarge:
		return "body_too_large"
	case fiber.StatusMethodNotAllowed:
		return "method_not_allowed"
	case fiber.StatusNotFound:
		return khabardar.ENOTFOUND
	}
	if status >= 500 {
		return khabardar.EINTERNAL
	}
	return khabardar.EINVALID
}

// routeOf is the matched route's pattern, never the path: a path may hold a
// bucket prefix, which narrows down whose identifier was looked up.
func routeOf(c *fiber.Ctx) string {
	if r := c.Route(); r != nil && r.Path != "/" {
		return r.Path
	}
	return "unmatched"
}

func (s *Server) logRequests(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			return herr
		}
	}
	s.cfg.Log.Info("request", "method", c.Method(), "route", routeOf(c), "status", c.Response().StatusCode(), "ms", time.Since(start).Milliseconds())
	return nil
}

func securityHeaders(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	c.Set("Referrer-Policy", "no-referrer")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
	return c.Next()
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		return khabardar.Errorf(khabardar.EUNAVAILABLE, "the store cannot be reached")
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// configBody is GET /v1/config.
type configBody struct {
	Suite       string `json:"suite"`
	Mode        string `json:"mode"`
	KeyID       string `json:"key_id"`
	PublicKey   string `json:"public_key"`
	Fingerprint string `json:"fingerprint"`
	BucketBits  int    `json:"bucket_bits"`
	SuffixBytes int    `json:"suffix_bytes"`
	MaxBatch    int    `json:"max_batch"`
}

func (s *Server) config(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.JSON(configBody{
		Suite:       hashing.Suite,
		Mode:        "voprf",
		KeyID:       s.cfg.Key.ID(),
		PublicKey:   base64.RawURLEncoding.EncodeToString(s.cfg.Key.PublicKey()),
		Fingerprint: s.cfg.Key.Fingerprint(),
		BucketBits:  s.cfg.Layout.BucketBits,
		SuffixBytes: s.cfg.Layout.SuffixBytes,
		MaxBatch:    s.cfg.MaxBatch,
	})
}

func (s *Server) listings(c *fiber.Ctx) error {
	ls, err := s.cfg.Store.Listings(c.UserContext())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=60")
	return c.JSON(fiber.Map{"listings": ls})
}

func (s *Server) listing(c *fiber.Ctx) error {
	l, err := s.cfg.Store.Listing(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=60")
	return c.JSON(l)
}
