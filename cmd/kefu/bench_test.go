package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
)

// BenchmarkWebChat measures whole messages per second through the real server: HTTP POST to the web
// chat API -> engine (flows, FAQ match) -> storage transaction (inbound row, session, outbox) -> the
// replies read back in the HTTP response. Each parallel client is its own customer asking FAQ questions.
// It reports msgs/s and the process's peak heap (runtime/metrics) on SQLite and, when
// KEFU_TEST_POSTGRES_DSN is set, on PostgreSQL.
//
//	go test ./cmd/kefu -run '^$' -bench WebChat -benchtime 2000x
func BenchmarkWebChat(b *testing.B) {
	for name, dsn := range testDatabases(b) {
		b.Run(name, func(b *testing.B) {
			s := startJourneyServer(b, dsn(b), nil, func(c *Config) {
				// one client drives every session flat out
				c.Web.SessionsPerSecond, c.Web.MessagesPerSecond, c.Web.ClientMessagesPerSecond = -1, -1, -1
			})
			questions := []string{"保修期多久", "怎么退货", "多久能发货", "支持哪些付款方式", "How long is the warranty?", "how do I return an item"}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			var seq atomic.Int64
			var peak atomic.Uint64
			sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
			runtime.GC()
			b.SetParallelism(4) // 4×GOMAXPROCS concurrent customers
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				sess := s.newSession(client)
				for pb.Next() {
					i := seq.Add(1)
					body, _ := json.Marshal(map[string]string{"session": sess, "text": questions[int(i)%len(questions)]})
					resp, err := client.Post(s.url+"/api/webchat/messages", "application/json", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					var out struct{ Replies []json.RawMessage }
					json.NewDecoder(resp.Body).Decode(&out)
					resp.Body.Close()
					if resp.StatusCode != 200 || len(out.Replies) == 0 {
						b.Errorf("status %d, %d replies", resp.StatusCode, len(out.Replies))
						return
					}
					if i%64 == 0 {
						metrics.Read(sample)
						if v := sample[0].Value.Uint64(); v > peak.Load() {
							peak.Store(v)
						}
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		})
	}
}

// newSession creates a web chat session with client (safe to call from parallel benchmark goroutines).
func (s *e2eServer) newSession(client *http.Client) string {
	resp, err := client.Post(s.url+"/api/webchat/sessions", "application/json", bytes.NewReader([]byte("{}")))
	if err != nil {
		s.t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	var r struct{ Session string }
	json.NewDecoder(resp.Body).Decode(&r)
	return r.Session
}
