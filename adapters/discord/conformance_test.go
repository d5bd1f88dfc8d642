package discord

import (
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/adaptertest"
	"github.com/kefu-dev/kefu/adapters/discord/discordtest"
	"github.com/kefu-dev/kefu/bot"
)

// TestConformance runs the adapter conformance suite on Discord DMs against the fake gateway and
// REST API. Discord does not redeliver gateway events to a new session, so KillAndRestart is off
// (a resumed session's replay is tested in discord_test.go).
func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T) adaptertest.Harness {
		f := discordtest.NewServer(t)
		const dm, user = "dm1", "42"
		connected := func() {
			f.WaitUntil("the adapter's gateway session", func() bool { return f.Gateway().Connected })
		}
		return adaptertest.Harness{
			Features: adaptertest.Features{RateLimit: true, IgnoresBots: true},
			New: func(t *testing.T) bot.Adapter {
				a, err := New(Options{Token: discordtest.Token, APIURL: f.URL, GatewayURL: f.GatewayURL(), RetryMin: 5 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				return a
			},
			Inject: func(t *testing.T, text string) string {
				connected()
				f.PushDM(dm, user, text, nil)
				return dm
			},
			InjectFromBot: func(t *testing.T, text string) {
				connected()
				m := discordtest.MessageCreate("bot-"+text, dm, "", "77", text, nil)
				m["author"].(map[string]any)["bot"] = true
				f.Dispatch("MESSAGE_CREATE", m)
			},
			Throttle: func(t *testing.T, wait time.Duration) { f.SetRateLimit(1, wait.Seconds()) },
			ChatID:   dm,
			Received: func(t *testing.T) []adaptertest.Received {
				var out []adaptertest.Received
				for _, m := range f.Sent() {
					r := adaptertest.Received{ChatID: m.ChannelID, Text: m.Content}
					for _, b := range m.Buttons() {
						r.Buttons = append(r.Buttons, b.Label)
					}
					out = append(out, r)
				}
				return out
			},
		}
	})
}
