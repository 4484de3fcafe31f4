package api

import (
	"context"
	"fmt"
	"testing"

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
// routing and middleware but no network; the store's read; the rendering.
func BenchmarkBucketParts(b *testing.B) {
	e := newEnv(b, unlimited)
	fillMillion(b, e.store, e.layout)
	ctx := context.Background()
	b.Run("handler", func(b *testing.B) {
		h := e.srv.App().Handler()
		b.ReportAllocs()
		var rc fasthttp.RequestCtx
		i := 0
		for b.Loop() {
			i++
			rc.Request.Reset()
			rc.Response.Reset()
			rc.Request.SetRequestURI(fmt.Sprintf("/v1/buckets/%04x", (i*7919)&0xffff))
			h(&rc)
			if rc.Response.StatusCode() != 200 {
				b.Fatal(rc.Response.StatusCode())
			}
		}
	})
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
	entries, _ := e.store.Bucket(ctx, "abcd")
	target, _ := e.srv.paddingTarget(ctx)
	b.Run("render", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.srv.renderBucket("abcd", entries, target)
		}
	})
	b.Run("etag", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.srv.bucketETag("abcd", entries, target)
		}
	})
}
