package api

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/identifier"
	"github.com/khabardar/khabardar/internal/cpuclock"
	"github.com/khabardar/khabardar/internal/redistest"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/redisstore"
	"github.com/khabardar/khabardar/storetest"
)

// Benchmarks run the real server on a loopback port and a fasthttp client
// in the same process, beside a raw limit measured in the same run:
//
//	go test ./api -run '^$' -bench 'Evaluate|Bucket' -benchtime 5s
//
// BenchmarkEvaluate's elements/s compares with BenchmarkKeyEvaluate's
// (hashing.Key.Evaluate on the same batches, on every core, no HTTP), and
// BenchmarkBucket's api/ with its constant/ (a fiber handler sending a
// constant body of the same size). Each reports CPU per operation beside its
// rate. `go run ./bench` runs each pair in separate processes, interleaved,
// and prints the ratios.

// unlimited sets rates no benchmark reaches (the limiter still runs) and
// formats request logs as serve does, into io.Discard.
func unlimited(c *Config, rc *ratelimit.Config) {
	c.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	rc.Evaluate, rc.Bucket, rc.Listing, rc.GlobalEvaluate = "1000000000-H", "1000000000-H", "1000000000-H", "1000000000000-D"
}

// serveApp serves app on a loopback port until b ends and returns a client
// for it.
func serveApp(b *testing.B, serve func(net.Listener) error, shutdown func(context.Context) error) *fasthttp.HostClient {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go serve(ln)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shutdown(ctx)
	})
	return &fasthttp.HostClient{Addr: ln.Addr().String(), MaxConns: 256, ReadBufferSize: 64 << 10}
}

// latencies collects per-request latencies from parallel clients.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d...)
	l.mu.Unlock()
}

func (l *latencies) p99() time.Duration {
	slices.Sort(l.all)
	if len(l.all) == 0 {
		return 0
	}
	return l.all[len(l.all)*99/100]
}

func BenchmarkEvaluate(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("elements=%d", n), func(b *testing.B) {
			e := newEnv(b, unlimited)
			hc := serveApp(b, e.srv.Serve, e.srv.Shutdown)
			ids := make([]identifier.ID, n)
			for i := range ids {
				ids[i] = mustID(b, identifier.Phone, fmt.Sprintf("0300-%07d", i))
			}
			_, _, els := e.blind(ids...)
			body := []byte(e.evaluateBody(els...))
			b.SetParallelism(4)
			b.ResetTimer()
			cpu0 := cpuclock.Self()
			b.RunParallel(func(pb *testing.PB) {
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				for pb.Next() {
					req.Reset()
					req.SetRequestURI("http://" + hc.Addr + "/v1/evaluate")
					req.Header.SetMethod("POST")
					req.Header.SetContentType("application/json")
					req.SetBody(body)
					if err := hc.Do(req, resp); err != nil || resp.StatusCode() != 200 {
						b.Errorf("%v %d %s", err, resp.StatusCode(), resp.Body())
						return
					}
				}
			})
			cpu := cpuclock.Self() - cpu0
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "elements/s")
			// The client shares the process: this is server and client.
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*n), "cpu-µs/element")
		})
	}
}

// BenchmarkKeyEvaluate is BenchmarkEvaluate's raw limit: the same batches
// evaluated by hashing.Key.Evaluate (one batched DLEQ proof) on every core,
// with no HTTP.
func BenchmarkKeyEvaluate(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("elements=%d", n), func(b *testing.B) {
			e := newEnv(b)
			ids := make([]identifier.ID, n)
			for i := range ids {
				ids[i] = mustID(b, identifier.Phone, fmt.Sprintf("0300-%07d", i))
			}
			_, bl, _ := e.blind(ids...)
			b.ResetTimer()
			cpu0 := cpuclock.Self()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, _, err := e.key.Evaluate(bl.Elements); err != nil {
						b.Error(err)
						return
					}
				}
			})
			cpu := cpuclock.Self() - cpu0
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "elements/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*n), "cpu-µs/element")
		})
	}
}

// randomExposures returns n exposures in random buckets of layout, the same
// for the same seed.
func randomExposures(layout khabardar.Layout, n int, seed uint64) []khabardar.Exposure {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	r := rand.NewChaCha8(s)
	pb := layout.BucketBits / 8
	raw := make([]byte, n*(pb+layout.SuffixBytes))
	r.Read(raw)
	out := make([]khabardar.Exposure, n)
	for i := range out {
		b := raw[i*(pb+layout.SuffixBytes):][:pb+layout.SuffixBytes]
		out[i] = khabardar.Exposure{Prefix: hex.EncodeToString(b[:pb]), Suffix: b[pb:], Kind: identifier.Kinds[i%3]}
	}
	return out
}

// fillMillion stores 1,000,000 random identifiers in listing "bench".
func fillMillion(b *testing.B, st khabardar.Store, layout khabardar.Layout) {
	ctx := context.Background()
	if err := st.PutListing(ctx, storetest.NewListing("bench")); err != nil {
		b.Fatal(err)
	}
	const n, batch = 1_000_000, 50_000
	for i := 0; i < n/batch; i++ {
		if _, err := st.AddExposures(ctx, "bench", randomExposures(layout, batch, uint64(i+1))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBucket fetches buckets of a store holding 1,000,000 identifiers
// (embedded, and Redis when there is one) over loopback, each request a
// random one of the 65,536, beside two baselines in the same run: a bare
// fiber handler sending a constant body of the same size (constant/), and
// the same handler behind this server's middleware, that is request logs,
// metrics and security headers (constant-stack/). It reports requests/s and
// the 99th percentile latency seen by the client.
func BenchmarkBucket(b *testing.B) {
	b.Run("embedded", func(b *testing.B) {
		e := newEnv(b, unlimited)
		fillMillion(b, e.store, e.layout)
		benchBuckets(b, e)
	})
	b.Run("redis", func(b *testing.B) {
		url := redistest.URL(b)
		e := newEnv(b, unlimited)
		rs, err := redisstore.Open(context.Background(), url)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { rs.Close() })
		if err := rs.Init(context.Background(), e.layout); err != nil {
			b.Fatal(err)
		}
		fillMillion(b, rs, e.layout)
		e.cfg.Store, e.cfg.APIKeys = rs, rs
		e.srv = New(e.cfg)
		benchBuckets(b, e)
	})
}

// warm fetches every bucket once.
func warm(b *testing.B, hc *fasthttp.HostClient) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	for i := range 1 << 16 {
		req.SetRequestURI(fmt.Sprintf("http://%s/v1/buckets/%04x", hc.Addr, i))
		if err := hc.Do(req, resp); err != nil || resp.StatusCode() != 200 {
			b.Fatalf("warming: %v %d", err, resp.StatusCode())
		}
	}
}

func benchBuckets(b *testing.B, e *env) {
	first := e.get("/v1/buckets/abcd")
	body := first.body
	b.Logf("bucket responses are %d bytes, %d entries", len(body), len(decodeBucket(b, first).Entries))

	run := func(b *testing.B, hc *fasthttp.HostClient, path string) {
		var lat latencies
		b.SetParallelism(8)
		b.ResetTimer()
		cpu0 := cpuclock.Self()
		b.RunParallel(func(pb *testing.PB) {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
			var mine []time.Duration
			for pb.Next() {
				req.SetRequestURI(fmt.Sprintf("http://%s%s%04x", hc.Addr, path, r.IntN(1<<16)))
				start := time.Now()
				if err := hc.Do(req, resp); err != nil || resp.StatusCode() != 200 || len(resp.Body()) != len(body) {
					b.Errorf("%v %d, %d bytes", err, resp.StatusCode(), len(resp.Body()))
					return
				}
				mine = append(mine, time.Since(start))
			}
			lat.add(mine)
		})
		cpu := cpuclock.Self() - cpu0
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		b.ReportMetric(float64(lat.p99().Microseconds()), "p99-µs")
		// Server and load generator share this process: CPU per request
		// is both, the same client work for every sub-benchmark.
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/req")
	}
	constant := func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(body)
	}
	// api is the steady state of a replica that has served for a while:
	// every bucket read once, then served from the bucket cache (default
	// budget, 1-minute TTL: longer than the run). api-uncached reads the
	// store on every request, as a replica does right after starting.
	warmed := false
	b.Run("api", func(b *testing.B) {
		hc := serveApp(b, e.srv.Serve, e.srv.Shutdown)
		if !warmed {
			warm(b, hc)
			warmed = true
		}
		run(b, hc, "/v1/buckets/")
	})
	b.Run("api-uncached", func(b *testing.B) {
		cfg := e.cfg
		cfg.BucketCacheBytes = -1
		srv := New(cfg)
		run(b, serveApp(b, srv.Serve, srv.Shutdown), "/v1/buckets/")
	})
	b.Run("constant", func(b *testing.B) {
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		app.Get("/v1/buckets/:prefix", constant)
		run(b, serveApp(b, app.Listener, app.ShutdownWithContext), "/v1/buckets/")
	})
	b.Run("constant-stack", func(b *testing.B) {
		srv := New(e.cfg)
		srv.App().Get("/constant/:prefix", constant)
		run(b, serveApp(b, srv.Serve, srv.Shutdown), "/constant/")
	})
}
