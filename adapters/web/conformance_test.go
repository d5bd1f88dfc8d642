package web

import (
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/kefu-dev/kefu/adapters/adaptertest"
	"github.com/kefu-dev/kefu/bot"
)

// TestConformance runs the adapter conformance suite on the web chat. The "platform" is the page:
// Inject posts a message as app.js does (a client_id per message, retried with the same id after a
// server error), so a failed Deliver comes back exactly as it would from a browser. Send pushes
// nothing (the page pulls the outbox), so the suite checks the id it answers.
func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T) adaptertest.Harness {
		st := newFakeStore()
		const session = "conformance-session-0001"
		if err := st.CreateWebSession(t.Context(), session, "en"); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var cur *Adapter
		n := 0
		return adaptertest.Harness{
			New: func(t *testing.T) bot.Adapter {
				a, err := New(Options{Store: st})
				if err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				cur = a
				mu.Unlock()
				return a
			},
			Inject: func(t *testing.T, text string) string {
				mu.Lock()
				a := cur
				n++
				clientID := "c-" + strconv.Itoa(n)
				mu.Unlock()
				waitRunning(a)
				body := mustJSON(t, map[string]string{"session": session, "text": text, "client_id": clientID})
				for attempt := 0; ; attempt++ {
					w := do(t, a, "POST", "/api/webchat/messages", body, nil, nil)
					if w.Code == http.StatusOK {
						return session
					}
					if w.Code < 500 || attempt == 5 {
						t.Fatalf("post %q: %d %s", text, w.Code, w.Body)
					}
				}
			},
			ChatID: session,
		}
	})
}
