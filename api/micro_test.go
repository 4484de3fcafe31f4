package api

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/khabardar/khabardar/identifier"
)

// BenchmarkCheckEvaluate is everything POST /v1/evaluate checks of one
// element before charging the caller.
func BenchmarkCheckEvaluate(b *testing.B) {
	e := newEnv(b)
	_, _, els := e.blind(mustID(b, identifier.Phone, "0300-1234567"))
	body := []byte(e.evaluateBody(els...))
	ct := []byte("application/json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := checkEvaluate(ct, body, 16, e.key.ID()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBucketParts times the parts of GET /v1/buckets/{prefix} on a
// store of 1,000,000 identifiers, in process: the handler with fiber's
// routing and middleware but no network, with the bucket cache warm and
// without it; the store's read; the rendering; the ETag.
func BenchmarkBucketParts(b *testing.B) {
	e := newEnv(b, unlimited)
	fillMillion(b, e.store, e.layout)
	ctx := context.Background()
	handler := func(srv *Server, path string) func(b *testing.B) {
		return func(b *testing.B) {
			h := srv.App().Handler()
			var rc fasthttp.RequestCtx
			for i := range 1 << 16 { // warm the cache, if any
				rc.Request.SetRequestURI(fmt.Sprintf("%s%04x", path, i))
				h(&rc)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				rc.Request.Reset()
				rc.Response.Reset()
				rc.Request.SetRequestURI(fmt.Sprintf("%s%04x", path, (i*7919)&0xffff))
				h(&rc)
				if rc.Response.StatusCode() != 200 {
					b.Fatal(rc.Response.StatusCode())
				}
			}
		}
	}
	b.Run("handler", handler(e.srv, "/v1/buckets/"))
	// What the warm cache holds: the weigher's estimate, and the heap it
	// really takes (measured after a GC, before and after filling it).
	b.Run("cache-size", func(b *testing.B) {
		srv := New(e.cfg)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		h := srv.App().Handler()
		var rc fasthttp.RequestCtx
		for i := range 1 << 16 {
			rc.Request.SetRequestURI(fmt.Sprintf("/v1/buckets/%04x", i))
			h(&rc)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(srv.buckets.WeightedSize())/1e6, "weighed-MB")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "heap-MB")
		b.ReportMetric(float64(srv.buckets.EstimatedSize()), "buckets")
	})
	uncached := e.cfg
	uncached.BucketCacheBytes = -1
	b.Run("handler-uncached", handler(New(uncached), "/v1/buckets/"))
	// The same middleware around a handler that sends a constant body of
	// the same size: what the route's own work is measured against.
	body := e.get("/v1/buckets/abcd").body
	constant := New(e.cfg)
	constant.App().Get("/constant/:prefix", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(body)
	})
	b.Run("handler-constant", handler(constant, "/constant/"))
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if _, err := e.store.Bucket(ctx, fmt.Sprintf("%04x", (i*7919)&0xffff)); err != nil {
				b.Fatal(err)
			}
		}
	})
	v, err := e.srv.loadBucket(ctx, "abcd")
	if err != nil {
		b.Fatal(err)
	}
	target, _ := e.srv.paddingTarget(ctx)
	b.Run("render", func(b *testing.B) {
		b.ReportAllocs()
		p := v.pad(e.srv, target)
		var body []byte
		for b.Loop() {
			body = e.srv.renderBucket(body[:0], v, p)
		}
	})
	b.Run("pad", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v.padded.Store(nil)
			v.pad(e.srv, target)
		}
	})
	b.Run("etag", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.srv.computeETag(v, target)
		}
	})
}
