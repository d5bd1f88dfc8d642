package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/slack/slacktest"
	"github.com/kefu-dev/kefu/bot"
)

const (
	slackSecret   = "journey-signing-secret-0123456789"
	slackAgent1   = "UAGENT1"
	slackAgent2   = "UAGENT2"
	slackStranger = "USTRANGER"
	slackTeamCh   = "CAFTER" // the after-sales team's channel
	slackSupCh    = "CSUP"
)

// startSlackServer runs serve with the agents' side on the fake Slack Web API (HTTP mode):
// KEFU_SLACK_BOT_TOKEN, KEFU_SLACK_SIGNING_SECRET and KEFU_SLACK_API_URL from the environment,
// routes and agents from the config.
func startSlackServer(t testing.TB, dbURL string, f *slacktest.Server) *journeyServer {
	t.Helper()
	return startJourneyServer(t, dbURL, map[string]string{
		"KEFU_SLACK_BOT_TOKEN":      slacktest.BotToken,
		"KEFU_SLACK_SIGNING_SECRET": slackSecret,
		"KEFU_SLACK_API_URL":        f.APIURL(),
	}, func(c *Config) {
		c.Slack.Routes = map[string]string{"aftersale": slackTeamCh, "complaint": "CSENIOR"}
		c.Slack.DefaultChannel = "CGENERAL"
		c.Slack.SupervisorsChannel = slackSupCh
		c.Slack.Agents = []string{slackAgent1, slackAgent2}
	})
}

// slackPost sends a request to one of kefu's Slack endpoints, signed at at with secret, and returns
// the status and body.
func journeySlackPost(t testing.TB, s *journeyServer, path, contentType, body string, at time.Time, secret string) (int, string) {
	t.Helper()
	r := slacktest.NewSignedRequest(s.url+path, contentType, body, at, secret)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const slackFormType = "application/x-www-form-urlencoded"

// kefuCommand runs `/kefu text` as user and returns what the agent sees: the inline answer, or the
// one posted to response_url.
func journeyKefuCommand(t testing.TB, s *journeyServer, f *slacktest.Server, user, text string) string {
	t.Helper()
	respURL := f.ResponseURL(fmt.Sprint(time.Now().UnixNano()))
	code, body := journeySlackPost(t, s, "/slack/commands", slackFormType,
		slacktest.CommandBody(user, slackTeamCh, text, respURL), time.Now(), slackSecret)
	if code != http.StatusOK {
		t.Fatalf("/kefu %s: status %d: %s", text, code, body)
	}
	if strings.TrimSpace(body) != "" {
		return body
	}
	var answer string
	waitFor(t, "response_url answer to /kefu "+text, func() bool {
		for _, c := range f.Called("response_url") {
			answer = fmt.Sprint(c.JSON)
			return true
		}
		return false
	})
	return answer
}

// webTicket takes a web chat customer from "你好" to a submitted after-sales ticket and returns
// the session, the replies so far and the ticket number.
func journeyWebTicket(t *testing.T, s *e2eServer, description string) (string, []reply, string) {
	sess := s.session()
	r := s.say(sess, nil, "你好")
	r = s.say(sess, r, "保修期是多久？")
	r = s.say(sess, r, "!没解决")
	r = s.say(sess, r, "!售后退换")
	for _, a := range []string{description, "202611200012345", "!一般"} {
		if strings.Contains(r[len(r)-1].Text, "对吗") {
			break
		}
		if strings.HasPrefix(a, "!") && !hasButton(r, a[1:]) {
			continue
		}
		r = s.say(sess, r, a)
	}
	r = s.say(sess, r, "!提交")
	no := ticketNo.FindString(r[len(r)-1].Text)
	if no == "" {
		t.Fatalf("no ticket number in %+v", r)
	}
	return sess, r, no
}

// card waits for the ticket's card in the team channel and returns its chat.postMessage call.
func slackCard(t testing.TB, f *slacktest.Server, channel, no string) slacktest.Call {
	t.Helper()
	var got slacktest.Call
	waitFor(t, "card of "+no+" in "+channel, func() bool {
		for _, c := range f.Called("chat.postMessage") {
			if c.Form.Get("channel") == channel && strings.Contains(c.Form.Get("blocks"), no) {
				got = c
				return true
			}
		}
		return false
	})
	return got
}

// TestJourneySlack: an agent works a web chat customer's ticket end to end from Slack alone — card,
// Claim button (two agents at once: one wins), thread reply relayed to the web chat, `/kefu status …
// resolved`, the customer's confirmation and low rating, the supervisors' alert — with forged,
// replayed and non-agent requests refused on the way.
func TestJourneySlack(t *testing.T) {
	for name, dsn := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			f := slacktest.NewServer(t)
			s := startSlackServer(t, dsn(t), f)
			start := time.Now()
			sess, r, no := journeyWebTicket(t, s.e2eServer, "洗衣机滚筒不转了，没法洗衣服，希望尽快上门维修")

			// The card reaches the after-sales channel with Block Kit buttons.
			c := slackCard(t, f, slackTeamCh, no)
			blocks := c.Form.Get("blocks")
			mustContain(t, "card blocks", blocks, "kefu_claim", "kefu_resolve", "售后退换", "—")
			cardTS := c.TS

			// Forged and replayed requests are refused, whatever they carry.
			claim := slacktest.InteractionBody(slacktest.ButtonPayload(slackAgent1, slackTeamCh, "kefu_claim", no))
			if code, _ := journeySlackPost(t, s, "/slack/interactions", slackFormType, claim, time.Now(), "wrong-secret"); code != http.StatusUnauthorized {
				t.Errorf("wrongly signed interaction: status %d, want 401", code)
			}
			if code, _ := journeySlackPost(t, s, "/slack/interactions", slackFormType, claim, time.Now().Add(-6*time.Minute), slackSecret); code != http.StatusUnauthorized {
				t.Errorf("interaction signed 6 minutes ago: status %d, want 401", code)
			}
			cmd := slacktest.CommandBody(slackAgent1, slackTeamCh, "claim "+no, f.ResponseURL("x"))
			if code, _ := journeySlackPost(t, s, "/slack/commands", slackFormType, cmd, time.Now().Add(-6*time.Minute), slackSecret); code != http.StatusUnauthorized {
				t.Errorf("command signed 6 minutes ago: status %d, want 401", code)
			}
			// A non-agent's claim is refused politely and changes nothing.
			answer := journeyKefuCommand(t, s, f, slackStranger, "claim "+no)
			mustContain(t, "non-agent's answer", answer, "只有已配置的客服可以操作工单")
			if tk, _ := s.ticketEvents(t, no); tk.Assignee != "" {
				t.Fatalf("a non-agent's claim assigned the ticket to %q", tk.Assignee)
			}

			// Two agents press Claim at once: exactly one gets the ticket.
			var wg sync.WaitGroup
			for _, u := range []string{slackAgent1, slackAgent2} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body := slacktest.InteractionBody(slacktest.ButtonPayload(u, slackTeamCh, "kefu_claim", no))
					if code, resp := journeySlackPost(t, s, "/slack/interactions", slackFormType, body, time.Now(), slackSecret); code != http.StatusOK {
						t.Errorf("claim by %s: status %d: %s", u, code, resp)
					}
				}()
			}
			wg.Wait()
			var winner string
			waitFor(t, "claim", func() bool {
				tk, _ := s.ticketEvents(t, no)
				winner = strings.TrimPrefix(tk.Assignee, "slack:")
				return winner != ""
			})
			loser := map[string]string{slackAgent1: slackAgent2, slackAgent2: slackAgent1}[winner]
			if loser == "" {
				t.Fatalf("ticket assigned to %q, want one of the agents", winner)
			}
			waitFor(t, "the loser told who has it", func() bool {
				for _, c := range f.Called("chat.postEphemeral") {
					if c.Form.Get("user") == loser {
						return true
					}
				}
				return false
			})
			_, evs := s.ticketEvents(t, no)
			claims := 0
			for _, e := range evs {
				if e.Kind == bot.EvClaimed {
					claims++
				}
			}
			if claims != 1 {
				t.Errorf("%d claimed events, want 1", claims)
			}
			// The card is updated in place.
			waitFor(t, "card updated with the assignee", func() bool {
				for _, c := range f.Called("chat.update") {
					if c.Form.Get("channel") == slackTeamCh && c.Form.Get("ts") == cardTS && strings.Contains(c.Form.Get("blocks"), winner) {
						return true
					}
				}
				return false
			})

			// The agent's reply in the card's thread reaches the customer on web chat.
			last := r[len(r)-1].ID
			ev := slacktest.MessageEventBody("Ev1", winner, slackTeamCh, "1763888500.000100", cardTS, "您好，师傅明天上午上门", false)
			if code, body := journeySlackPost(t, s, "/slack/events", "application/json", ev, time.Now(), slackSecret); code != http.StatusOK {
				t.Fatalf("thread reply event: status %d: %s", code, body)
			}
			got := s.poll(sess, last, "师傅明天上午上门")
			// Slack delivers the event again (retry): the customer gets it once.
			journeySlackPost(t, s, "/slack/events", "application/json", ev, time.Now(), slackSecret)
			// An internal thread note (//) stays in Slack.
			note := slacktest.MessageEventBody("Ev2", winner, slackTeamCh, "1763888500.000200", cardTS, "// 内部：可能是电机", false)
			journeySlackPost(t, s, "/slack/events", "application/json", note, time.Now(), slackSecret)

			// `/kefu status GD… resolved` asks the customer to confirm.
			mustContain(t, "/kefu status answer", journeyKefuCommand(t, s, f, winner, "status "+no+" resolved"), no)
			ask := s.poll(sess, got.ID, no)
			if len(ask.Buttons) != 2 {
				t.Fatalf("resolution confirmation wants 2 buttons, got %+v", ask)
			}
			r = s.say(sess, []reply{ask}, "!已解决")
			r = s.say(sess, r, "!2")
			s.say(sess, r, "送货太慢了")

			// The low rating reaches the supervisors' channel.
			waitFor(t, "low rating in the supervisors' channel", func() bool {
				for _, c := range f.Called("chat.postMessage") {
					if c.Form.Get("channel") == slackSupCh && strings.Contains(c.Form.Get("text"), no) &&
						strings.Contains(c.Form.Get("text"), "2 分低评") {
						return true
					}
				}
				return false
			})
			tk, _ := s.ticketEvents(t, no)
			if tk.Rating != 2 || tk.Status != bot.StatusClosed && tk.Status != bot.StatusResolved {
				t.Errorf("ticket after the survey: rating %d status %s", tk.Rating, tk.Status)
			}

			// Everything the customer saw: the reply once, the note never.
			msgs := journeyWebMessages(t, s, sess)
			if n := strings.Count(msgs, "师傅明天上午上门"); n != 1 {
				t.Errorf("the agent's reply reached the customer %d times, want 1", n)
			}
			if strings.Contains(msgs, "内部") {
				t.Error("an internal thread note reached the customer")
			}
			t.Logf("Slack agent journey: %v", time.Since(start).Round(time.Millisecond))
		})
	}
}

func journeyWebMessages(t testing.TB, s *journeyServer, sess string) string {
	t.Helper()
	rows, err := s.db.OutboxRows(context.Background(), bot.ChannelWeb, sess)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r.Text + "\n")
	}
	return b.String()
}

// TestJourneySlackMasksPhoneInCard: a phone number the customer types into the description must not
// reach the team channel unmasked ("names/phones masked in team channels").
func TestJourneySlackMasksPhoneInCard(t *testing.T) {
	f := slacktest.NewServer(t)
	s := startSlackServer(t, dsnSQLite(t), f)
	_, _, no := journeyWebTicket(t, s.e2eServer, "洗衣机滚筒不转了，没法洗衣服，请打我电话13812345678安排上门维修")
	c := slackCard(t, f, slackTeamCh, no)
	for _, field := range []string{"blocks", "text"} {
		if strings.Contains(c.Form.Get(field), "13812345678") {
			t.Errorf("the card's %s shows the customer's phone unmasked:\n%s", field, c.Form.Get(field))
		}
	}
}

func dsnSQLite(t testing.TB) string { return testDatabases(t)["sqlite"](t) }
