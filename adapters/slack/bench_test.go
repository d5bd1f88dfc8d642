package slack

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/slack/slacktest"

	"github.com/kefu-dev/kefu/bot"
)

// BenchmarkCommands measures signed /kefu commands per second end to end through /slack/commands:
// signature check, form parsing, agent check, parsing, a Desk call (in-memory fake) and the JSON answer.
// "handler" calls ServeHTTP directly; "http" goes through a loopback HTTP server with parallel clients.
func BenchmarkCommands(b *testing.B) {
	for _, text := range []string{"list open", "show GD20261123001", "note GD20261123001 客户已回电"} {
		e := newEnv(b)
		for i := range 50 {
			tk := ticketGD1()
			tk.No = fmt.Sprintf("GD20261123%03d", i+1)
			tk.Priority = []bot.Priority{bot.P0, bot.P1, bot.P2}[i%3]
			e.desk.create(tk)
		}
		body := slacktest.CommandBody(agent1, "CTECH", text, "")
		verb, _, _ := strings.Cut(text, " ")
		b.Run("handler/"+verb, func(b *testing.B) {
			for b.Loop() {
				w := httptest.NewRecorder()
				e.app.ServeHTTP(w, slacktest.NewSignedRequest("/slack/commands", "application/x-www-form-urlencoded", body, time.Now(), testSecret))
				if w.Code != 200 {
					b.Fatalf("status %d", w.Code)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cmds/s")
		})
		srv := httptest.NewServer(e.app)
		b.Run("http/"+verb, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				c := srv.Client()
				for pb.Next() {
					r := slacktest.NewSignedRequest(srv.URL+"/slack/commands", "application/x-www-form-urlencoded", body, time.Now(), testSecret)
					r.RequestURI = ""
					resp, err := c.Do(r)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Fatalf("status %d", resp.StatusCode)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cmds/s")
		})
		srv.Close()
	}
}
