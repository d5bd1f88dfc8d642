package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/adapters/discord/discordtest"
	"github.com/kefu-dev/kefu/bot"
)

// startDiscordServer runs serve with the Discord channel pointed at the fake REST API and gateway,
// configured through KEFU_DISCORD_TOKEN, KEFU_DISCORD_API_URL and KEFU_DISCORD_GATEWAY_URL.
func startDiscordServer(t testing.TB, dbURL string, f *discordtest.Server) *journeyServer {
	t.Helper()
	s := startJourneyServer(t, dbURL, map[string]string{
		"KEFU_DISCORD_TOKEN":       discordtest.Token,
		"KEFU_DISCORD_API_URL":     f.URL,
		"KEFU_DISCORD_GATEWAY_URL": f.GatewayURL(),
	}, nil)
	waitFor(t, "gateway session", f.Connected)
	return s
}

// dcCustomer is one Discord user talking to the bot in a DM through the fake.
type dcCustomer struct {
	t       testing.TB
	f       *discordtest.Server
	s       *journeyServer
	user    string
	channel string // the DM channel
	locale  string // Discord client locale
	seen    int
	last    []discordtest.Message
}

// rows counts the outbox rows of the DM.
func (c *dcCustomer) rows() int { return len(c.s.outboxTexts(c.t, bot.ChannelDiscord, c.channel)) }

// settle waits until the DM's outbox has more than before rows, all sent, and returns the bot's new
// messages in the DM (posted messages and answers to slash commands).
func (c *dcCustomer) settle(before int) []discordtest.Message {
	c.t.Helper()
	waitFor(c.t, "replies in "+c.channel, func() bool {
		return c.rows() > before && c.s.outboxDrained(c.t, bot.ChannelDiscord, c.channel)
	})
	all := c.f.SentTo(c.channel)
	out := all[c.seen:]
	c.seen = len(all)
	c.last = out
	return out
}

func (c *dcCustomer) say(text string, extra map[string]any) []discordtest.Message {
	c.t.Helper()
	before := c.rows()
	c.f.PushDM(c.channel, c.user, text, extra)
	return c.settle(before)
}

// press taps the button labelled label (exactly, else as a prefix) under the last replies and checks
// the acknowledgement: an UPDATE_MESSAGE callback leaving only the chosen button, disabled.
func (c *dcCustomer) press(label string) []discordtest.Message {
	c.t.Helper()
	msg, b := dcButton(c.t, c.last, label)
	before := c.rows()
	id := c.f.PressButton(msg, c.user, c.locale, b.CustomID)
	r := c.settle(before)
	var acks []discordtest.Callback
	for _, cb := range c.f.Callbacks() {
		if cb.InteractionID == id {
			acks = append(acks, cb)
		}
	}
	if len(acks) != 1 || acks[0].Type != 7 {
		c.t.Fatalf("pressing %q: callbacks %+v, want one UPDATE_MESSAGE (7)", label, acks)
	}
	left := discordtest.Message{Components: acks[0].Components}.Buttons()
	if len(left) != 1 || left[0].CustomID != b.CustomID || !left[0].Disabled {
		c.t.Errorf("pressing %q: keyboard after the press %+v, want only the chosen button, disabled", label, left)
	}
	return r
}

func dcButton(t testing.TB, msgs []discordtest.Message, label string) (discordtest.Message, discordtest.Button) {
	t.Helper()
	for _, exact := range []bool{true, false} {
		for i := len(msgs) - 1; i >= 0; i-- {
			for _, b := range msgs[i].Buttons() {
				if b.Label == label || (!exact && strings.HasPrefix(b.Label, label)) {
					return msgs[i], b
				}
			}
		}
	}
	t.Fatalf("no button %q in\n%s", label, dcTexts(msgs))
	return discordtest.Message{}, discordtest.Button{}
}

func dcTexts(msgs []discordtest.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "  [%s %s] %q %s\n", m.ID, m.Via, m.Content, m.Components)
	}
	return b.String()
}

func dcHas(t testing.TB, msgs []discordtest.Message, wants ...string) {
	t.Helper()
	all := dcTexts(msgs)
	for _, w := range wants {
		if !strings.Contains(all, w) {
			t.Fatalf("no message containing %q in\n%s", w, all)
		}
	}
}

// runDiscordJourney walks the foundation journey in a DM and returns the ticket number.
func runDiscordJourney(t *testing.T, s *journeyServer, f *discordtest.Server, user string, sc journeyScript) string {
	locale := map[string]string{"zh-CN": "zh-CN", "en": "en-US"}[sc.lang]
	c := &dcCustomer{t: t, f: f, s: s, user: user, channel: "dm-" + user, locale: locale}
	start := time.Now()

	// The first DM has no language hint (Discord sends the locale only with interactions): the
	// language comes from the text.
	dcHas(t, c.say(sc.question, nil), sc.greeting, sc.answer)
	r := c.press(sc.notHelped)
	r = c.press(sc.category)
	for _, step := range []string{sc.description, sc.order, "!" + sc.urgency} {
		if strings.Contains(string(r[len(r)-1].Components), sc.submit) {
			break
		}
		if label, ok := strings.CutPrefix(step, "!"); ok {
			r = c.press(label)
		} else {
			r = c.say(step, nil)
		}
	}
	r = c.press(sc.submit)
	no := ticketNo.FindString(r[len(r)-1].Content)
	if no == "" {
		t.Fatalf("no ticket number in\n%s", dcTexts(r))
	}

	// An image attachment on the open ticket is stored on it.
	url := "https://cdn.discordapp.com/attachments/1/2/fridge-" + sc.lang + ".jpg"
	dcHas(t, c.say(sc.photoCaption, map[string]any{"attachments": []any{map[string]any{
		"id": "att1", "filename": "fridge.jpg", "size": 2048, "url": url, "content_type": "image/jpeg"}}}), sc.added)
	_, evs := s.ticketEvents(t, no)
	found := false
	for _, e := range evs {
		for _, a := range e.Attachments {
			found = found || (a.FileID == url && a.Type == "photo" && a.Size == 2048)
		}
	}
	if !found {
		t.Fatalf("attachment not stored on %s: %+v", no, evs)
	}

	// The CLI agent's reply reaches the DM.
	s.cli("claim", no)
	before := c.rows()
	s.cli("reply", no, sc.agentReply)
	dcHas(t, c.settle(before), sc.agentReply)

	before = c.rows()
	s.cli("resolve", no)
	dcHas(t, c.settle(before), no)
	c.press(sc.solved)
	c.press(sc.rate)
	c.say(sc.comment, nil)
	mustContain(t, "ticket show", s.cli("show", no), sc.rating, sc.comment, "via discord")

	// /status as a slash command: deferred, then answered with this customer's tickets.
	before = c.rows()
	id := f.SlashCommand(c.channel, "", user, locale, "status")
	r = c.settle(before)
	if len(r) == 0 || r[0].Via != "interaction" {
		t.Errorf("/status was not answered through the interaction:\n%s", dcTexts(r))
	}
	dcHas(t, r, sc.statusHead, no)
	for _, cb := range f.Callbacks() {
		if cb.InteractionID == id && cb.Type != 5 {
			t.Errorf("/status acknowledged with type %d, want 5 (deferred)", cb.Type)
		}
	}

	var got []string
	for _, m := range f.SentTo(c.channel) {
		got = append(got, m.Content)
	}
	if diff := cmp.Diff(s.outboxTexts(t, bot.ChannelDiscord, c.channel), got); diff != "" {
		t.Errorf("messages in the DM differ from the outbox (-outbox +sent):\n%s", diff)
	}
	t.Logf("%s journey on Discord: %d bot messages in %v", sc.lang, len(got), time.Since(start).Round(time.Millisecond))
	return no
}

// TestJourneyDiscord walks the foundation journey through Discord DMs with button interactions, in
// Chinese and English at once, then checks that /status shows each customer only their own ticket.
func TestJourneyDiscord(t *testing.T) {
	for name, dsn := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			f := discordtest.NewServer(t)
			s := startDiscordServer(t, dsn(t), f)
			var mu sync.Mutex
			tickets := map[string]string{}
			t.Run("journeys", func(t *testing.T) {
				for i, sc := range journeyScripts {
					user := fmt.Sprint(4201 + i)
					t.Run(sc.lang, func(t *testing.T) {
						t.Parallel()
						no := runDiscordJourney(t, s, f, user, sc)
						mu.Lock()
						tickets[user] = no
						mu.Unlock()
					})
				}
			})
			if t.Failed() {
				return
			}
			for user := range tickets {
				for _, m := range f.SentTo("dm-" + user) {
					for other, no := range tickets {
						if other != user && strings.Contains(m.Content, no) {
							t.Errorf("user %s was shown another customer's ticket %s: %q", user, no, m.Content)
						}
					}
				}
			}
			cmds := f.CallsTo("PUT", "/api/v9/applications/*")
			if len(cmds) == 0 || !json.Valid(cmds[0].Body) || !strings.Contains(string(cmds[0].Body), `"status"`) {
				t.Errorf("slash commands not registered: %+v", cmds)
			}
		})
	}
}
