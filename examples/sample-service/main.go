// Command sample-service is Dockyard's sample application (docs/apm.md): a few HTTP routes with a
// latency and an error ratio set by environment variables, one log line per request, and the request
// histogram Dockyard reads (dockyard_http_server_request_duration_seconds{method,route,code}, seconds,
// Prometheus' default buckets) on its metrics port. Standard library only; built static (CGO_ENABLED=0).
//
// Routes: GET /api/orders, POST /api/orders (twice as slow), GET /healthz (never slow, never failing).
// Environment: PORT (8080), METRICS_PORT (9090), LATENCY_MS (20: an /api request takes 0.5–1.5× this),
// SLOW_RATIO (0.02: the share of /api requests that are slow), SLOW_MS (170: how slow, ±10 %),
// ERROR_RATIO (0: the share of /api requests answered 500, at once).
package main

import (
	"fmt"
	"log"
	"math/rand"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const name = "dockyard_http_server_request_duration_seconds"

var buckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10} // domain/apm.py BUCKETS

type key struct{ method, route, code string }

type series struct {
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
}

var (
	mu        sync.Mutex
	histogram = map[key]*series{}
)

func observe(k key, seconds float64) {
	mu.Lock()
	defer mu.Unlock()
	s := histogram[k]
	if s == nil {
		s = &series{counts: make([]uint64, len(buckets)+1)}
		histogram[k] = s
	}
	i := sort.SearchFloat64s(buckets, seconds) // the first bound >= seconds (le is inclusive)
	s.counts[i]++
	s.sum += seconds
}

func metrics(w http.ResponseWriter, _ *http.Request) {
	mu.Lock()
	defer mu.Unlock()
	keys := make([]key, 0, len(histogram))
	for k := range histogram {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	var b strings.Builder
	fmt.Fprintf(&b, "# HELP %s Time to answer an HTTP request, by method, route template and status code.\n", name)
	fmt.Fprintf(&b, "# TYPE %s histogram\n", name)
	for _, k := range keys {
		s := histogram[k]
		labels := fmt.Sprintf("method=%q,route=%q,code=%q", k.method, k.route, k.code)
		var running uint64
		for i, le := range buckets {
			running += s.counts[i]
			fmt.Fprintf(&b, "%s_bucket{%s,le=%q} %d\n", name, labels, strconv.FormatFloat(le, 'g', -1, 64), running)
		}
		running += s.counts[len(buckets)]
		fmt.Fprintf(&b, "%s_bucket{%s,le=\"+Inf\"} %d\n", name, labels, running)
		fmt.Fprintf(&b, "%s_sum{%s} %s\n", name, labels, strconv.FormatFloat(s.sum, 'g', -1, 64))
		fmt.Fprintf(&b, "%s_count{%s} %d\n", name, labels, running)
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

func number(env string, fallback float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(env), 64); err == nil && v >= 0 {
		return v
	}
	return fallback
}

type recorder struct {
	http.ResponseWriter
	code int
}

func (r *recorder) WriteHeader(code int) { r.code = code; r.ResponseWriter.WriteHeader(code) }

func main() {
	latency := number("LATENCY_MS", 20) / 1000
	slowRatio, slow := number("SLOW_RATIO", 0.02), number("SLOW_MS", 170)/1000
	errorRatio := number("ERROR_RATIO", 0)
	port, metricsPort := os.Getenv("PORT"), os.Getenv("METRICS_PORT")
	if port == "" {
		port = "8080"
	}
	if metricsPort == "" {
		metricsPort = "9090"
	}
	log.SetFlags(0)
	log.SetOutput(os.Stdout)

	// wait: how long an /api request takes (scale: POST is twice as slow); true: answer 500 at once.
	wait := func(scale float64) (time.Duration, bool) {
		if rand.Float64() < errorRatio {
			return 0, true
		}
		if rand.Float64() < slowRatio {
			return time.Duration(slow * (0.9 + 0.2*rand.Float64()) * float64(time.Second)), false
		}
		return time.Duration(scale * latency * (0.5 + rand.Float64()) * float64(time.Second)), false
	}
	routes := map[key]func(http.ResponseWriter){
		{"GET", "/api/orders", ""}: func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`{"orders":[]}` + "\n"))
		},
		{"POST", "/api/orders", ""}: func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"id":1}` + "\n"))
		},
		{"GET", "/healthz", ""}: func(w http.ResponseWriter) { _, _ = w.Write([]byte("ok\n")) },
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started := time.Now()
		rec := &recorder{ResponseWriter: w, code: http.StatusOK}
		route := r.URL.Path
		answer, known := routes[key{r.Method, route, ""}]
		switch {
		case !known:
			route = "unmatched" // never the raw path as a label value
			http.NotFound(rec, r)
		case strings.HasPrefix(route, "/api/"):
			scale := 1.0
			if r.Method == "POST" {
				scale = 2
			}
			d, fail := wait(scale)
			if fail {
				http.Error(rec, "injected error", http.StatusInternalServerError)
				break
			}
			time.Sleep(d)
			answer(rec)
		default:
			answer(rec)
		}
		took := time.Since(started).Seconds()
		observe(key{r.Method, route, strconv.Itoa(rec.code)}, took)
		log.Printf("%s %s %s %d %.1fms", started.UTC().Format(time.RFC3339Nano), r.Method, r.URL.Path, rec.code, took*1000)
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", metrics)
	go func() { log.Fatal(http.ListenAndServe(":"+metricsPort, mux)) }()
	log.Printf("sample-service on :%s, metrics on :%s", port, metricsPort)
	log.Fatal(http.ListenAndServe(":"+port, app))
}
