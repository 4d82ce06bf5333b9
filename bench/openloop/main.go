// openloop: a constant-rate (open-loop) HTTP load generator, standard library only.
//
// Request i is due at start + i/rate whether or not earlier requests have answered, and
// its latency is measured from that due time, so a stalled server shows up as latency
// instead of as fewer requests sent (no coordinated omission). Requests cycle through
// the lines of -requests (JSON: {"method","path","body","expect"}), which the caller
// shuffles; a request is ok when it gets its expected status (200 unless stated).
// Every run is bounded: -duration of sending, then at most -timeout for the queue to drain
// (and 10 × -timeout for a request already on the wire).
//
//	openloop -target http://127.0.0.1:8080 -rate 5000 -duration 10s -requests reqs.jsonl \
//	    -header 'X-API-Key: ...' > result.json
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

type request struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Body   json.RawMessage `json:"body,omitempty"`
	Expect int             `json:"expect,omitempty"` // the right status; 200 when absent
}

type outcome struct {
	latency  time.Duration
	status   int    // 0 when the request failed before a response
	failure  string // "late" (answered after -timeout), "unsent", "timeout", "connect", "other"
	expected bool   // the status the request line expects
	upstream string
}

// Result is what the caller reads (one JSON object on stdout).
type Result struct {
	OfferedRate   float64            `json:"offered_rate"`
	DurationS     float64            `json:"duration_s"`
	Sent          int                `json:"sent"`
	Completed     int                `json:"completed"`
	Responded     int                `json:"responded"` // got an HTTP response, late ones too
	RespondedRate float64            `json:"responded_rate"`
	Ok            int                `json:"ok"` // answered with the expected status
	Status        map[string]int     `json:"status"`
	Failures      map[string]int     `json:"failures"`
	Skipped       int                `json:"skipped"`
	AchievedRate  float64            `json:"achieved_rate"`
	LatencyMs     map[string]float64 `json:"latency_ms"`
	Upstreams     map[string]int     `json:"upstreams"` // answered requests (late too) per upstream
	MaxDispatchMs float64            `json:"max_dispatch_lag_ms"`
}

func main() {
	target := flag.String("target", "", "base URL, loopback only")
	rate := flag.Float64("rate", 1000, "requests per second offered")
	duration := flag.Duration("duration", 10*time.Second, "how long requests are sent")
	timeout := flag.Duration("timeout", 2*time.Second, "per-request timeout")
	file := flag.String("requests", "", "JSON lines of {method, path, body}")
	conns := flag.Int("connections", 128, "connections kept open to the target")
	var headers headerFlags
	flag.Var(&headers, "header", "'Name: value', repeatable")
	flag.Parse()
	if err := checkLoopback(*target); err != nil {
		fail(err)
	}
	reqs, err := readRequests(*file)
	if err != nil {
		fail(err)
	}
	result := run(*target, *rate, *duration, *timeout, *conns, reqs, headers)
	if err := json.NewEncoder(os.Stdout).Encode(result); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "openloop:", err)
	os.Exit(2)
}

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// checkLoopback refuses any target that is not on 127.0.0.0/8: this tool only ever loads
// the machine's own processes.
func checkLoopback(target string) error {
	rest := strings.TrimPrefix(target, "http://")
	host, _, err := net.SplitHostPort(strings.SplitN(rest, "/", 2)[0])
	if err != nil {
		return fmt.Errorf("target %q: %v", target, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return fmt.Errorf("target %q is not a 127.0.0.0/8 address", target)
	}
	return nil
}

func readRequests(path string) ([]request, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var reqs []request
	scanner := bufio.NewScanner(f)
	for line := 1; scanner.Scan(); line++ {
		var r request
		if err := json.Unmarshal(scanner.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		reqs = append(reqs, r)
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("%s: no requests", path)
	}
	return reqs, scanner.Err()
}

// run keeps `conns` connections busy the way wrk2 does: the schedule is fixed, a request
// that finds every connection busy waits in the client's queue, and that wait counts in
// its latency. An answer later than `timeout` after its due time is an error (the caller
// has given up); a request still queued `timeout` after the schedule ends is never sent.
func run(target string, rate float64, duration, timeout time.Duration, conns int,
	reqs []request, headers []string) Result {
	client := &http.Client{
		Timeout: 10 * timeout, // a hung connection cannot outlive the run's bound
		Transport: &http.Transport{
			MaxConnsPerHost:     conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
		},
	}
	total := int(rate * duration.Seconds())
	backlog := int(rate*timeout.Seconds()) + 1 // beyond it, a queued request is already late
	tasks := make(chan task, backlog)
	results := make(chan outcome, total)
	start := time.Now()
	stopAt := start.Add(duration + timeout)
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range tasks {
				if time.Now().After(stopAt) {
					results <- outcome{failure: "unsent", latency: time.Since(t.due)}
					continue
				}
				o := send(client, target, t.r, headers)
				o.latency = time.Since(t.due)
				if o.status != 0 && o.latency > timeout {
					o.failure, o.status = "late", 0
				}
				results <- o
			}
		}()
	}
	skipped, maxLag := dispatch(tasks, reqs, rate, total, start)
	close(tasks)
	wg.Wait()
	close(results)
	outcomes := make([]outcome, 0, total)
	for o := range results {
		outcomes = append(outcomes, o)
	}
	return summarize(outcomes, rate, duration, time.Since(start), skipped, maxLag, total)
}

type task struct {
	r   request
	due time.Time
}

// dispatch puts request i on the queue at start + i/rate; it never waits for an answer.
func dispatch(tasks chan<- task, reqs []request, rate float64, total int,
	start time.Time) (skipped int, maxLag time.Duration) {
	interval := time.Duration(float64(time.Second) / rate)
	for i := 0; i < total; i++ {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		} else if -wait > maxLag {
			maxLag = -wait
		}
		select {
		case tasks <- task{reqs[i%len(reqs)], due}:
		default:
			skipped++ // the queue holds a timeout's worth already: this one would be late
		}
	}
	return skipped, maxLag
}

func send(client *http.Client, target string, r request, headers []string) outcome {
	var body io.Reader
	if len(r.Body) > 0 {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequest(r.Method, target+r.Path, body)
	if err != nil {
		return outcome{failure: "other"}
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return outcome{failure: classify(err)}
	}
	_, _ = io.Copy(io.Discard, resp.Body) // read whole, so the connection is reused
	resp.Body.Close()
	want := r.Expect
	if want == 0 {
		want = http.StatusOK
	}
	return outcome{status: resp.StatusCode, expected: resp.StatusCode == want,
		upstream: resp.Header.Get("X-Upstream")}
}

func classify(err error) string {
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "timeout"
	}
	if strings.Contains(err.Error(), "connect") {
		return "connect"
	}
	return "other"
}

// summarize: rates are per second of the schedule (`duration`), not of the whole run,
// whose end waits for the slowest straggler.
func summarize(outcomes []outcome, rate float64, duration, elapsed time.Duration, skipped int,
	maxLag time.Duration, total int) Result {
	res := Result{
		OfferedRate: rate, DurationS: elapsed.Seconds(), Sent: total - skipped,
		Completed: len(outcomes), Skipped: skipped, Status: map[string]int{},
		Failures: map[string]int{}, Upstreams: map[string]int{},
		MaxDispatchMs: float64(maxLag) / 1e6,
	}
	latencies := make([]float64, 0, len(outcomes))
	for _, o := range outcomes {
		latencies = append(latencies, float64(o.latency)/1e6)
		if o.status != 0 || o.failure == "late" {
			res.Responded++
		}
		// Where the balancer sent it: late answers too, so a slowed upstream's share
		// is its routing, not only what it answered in time.
		if o.upstream != "" {
			res.Upstreams[o.upstream]++
		}
		if o.status == 0 {
			res.Failures[o.failure]++
			continue
		}
		res.Status[fmt.Sprint(o.status)]++
		if o.expected {
			res.Ok++
		}
	}
	res.AchievedRate = float64(res.Ok) / duration.Seconds()
	res.RespondedRate = float64(res.Responded) / duration.Seconds()
	res.LatencyMs = percentiles(latencies)
	return res
}

func percentiles(ms []float64) map[string]float64 {
	out := map[string]float64{}
	if len(ms) == 0 {
		return out
	}
	sort.Float64s(ms)
	at := func(q float64) float64 { return ms[int(q*float64(len(ms)-1))] }
	out["p50"], out["p95"], out["p99"], out["max"] = at(0.50), at(0.95), at(0.99), ms[len(ms)-1]
	return out
}
