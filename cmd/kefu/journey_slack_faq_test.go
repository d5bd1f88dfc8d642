package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/slack/slacktest"
	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/kb"
)

// TestJourneySlackFAQButtons, on the real stack and the strict Slack fake: the card of a web chat
// ticket carries the top-3 FAQ suggestions for the customer's words, each with a button; the agent's
// press (a signed block_actions payload) sends that entry's answer to the customer through the outbox
// and records a KB citation; after the agent's own reply and the resolution, the card's "Add to FAQ"
// button makes a draft entry from that reply.
func TestJourneySlackFAQButtons(t *testing.T) {
	f := slacktest.NewServer(t)
	s := startSlackServer(t, dsnSQLite(t), f)
	sess, r, no := journeyWebTicket(t, s.e2eServer, "收到的冰箱外箱破损，门也凹了，想退货，退款多久能到账？")
	c := slackCard(t, f, slackTeamCh, no)
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(c.Form.Get("blocks")), &blocks); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, b := range blocks {
		if acc, ok := b["accessory"].(map[string]any); ok && acc["action_id"] == "kefu_faq_reply" {
			v, _ := acc["value"].(string)
			ids = append(ids, strings.TrimPrefix(v, no+"|"))
		}
	}
	if len(ids) != 3 {
		t.Fatalf("the card carries %d FAQ buttons (%v), want 3:\n%s", len(ids), ids, c.Form.Get("blocks"))
	}
	entry := kb.Sample().Entry(ids[0], "zh-CN")
	if entry == nil {
		t.Fatalf("suggested entry %q is not in the library", ids[0])
	}
	press := func(action, value string) {
		t.Helper()
		p := slacktest.ButtonPayload(slackAgent1, slackTeamCh, action, value)
		p["trigger_id"] = "trig-" + action
		if code, body := journeySlackPost(t, s, "/slack/interactions", slackFormType, slacktest.InteractionBody(p), time.Now(), slackSecret); code != http.StatusOK {
			t.Fatalf("%s: status %d: %s", action, code, body)
		}
	}
	press("kefu_faq_reply", no+"|"+ids[0])
	got := s.poll(sess, r[len(r)-1].ID, entry.Answer[:30])
	_, evs := s.ticketEvents(t, no)
	cited := false
	for _, ev := range evs {
		cited = cited || ev.Kind == bot.EvFAQReply && ev.Text == ids[0]
	}
	stats, err := s.db.FAQStats(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	counted := false
	for _, st := range stats {
		counted = counted || st.EntryID == ids[0] && st.Cited >= 1
	}
	if !cited || !counted {
		t.Errorf("the FAQ answer is not recorded as a KB citation: event %v, stats %+v", cited, stats)
	}

	// The agent's own reply in the thread, the resolution, then the card's Add-to-FAQ button.
	ev := slacktest.MessageEventBody("EvFAQ1", slackAgent1, slackTeamCh, "1763888600.000100", c.TS, "冰箱运输破损可以直接退货，我们安排上门取件，验收后 1 个工作日内退款。", false)
	if code, body := journeySlackPost(t, s, "/slack/events", "application/json", ev, time.Now(), slackSecret); code != http.StatusOK {
		t.Fatalf("thread reply: %d %s", code, body)
	}
	s.poll(sess, got.ID, "上门取件")
	mustContain(t, "/kefu status", journeyKefuCommand(t, s, f, slackAgent1, "status "+no+" resolved"), no)
	waitFor(t, "the resolved card with the Add-to-FAQ button", func() bool {
		for _, u := range f.Called("chat.update") {
			if u.Form.Get("ts") == c.TS && strings.Contains(u.Form.Get("blocks"), "kefu_faq_draft") {
				return true
			}
		}
		return false
	})
	press("kefu_faq_draft", no)
	waitFor(t, "the draft", func() bool {
		ds, _ := s.db.FAQDrafts(context.Background(), bot.DraftOpen, 10)
		return len(ds) == 1
	})
	ds, _ := s.db.FAQDrafts(context.Background(), bot.DraftOpen, 10)
	if ds[0].TicketNo != no || !strings.Contains(ds[0].Answer, "上门取件") || !strings.Contains(ds[0].Question, "退款多久能到账") {
		t.Errorf("draft %+v", ds[0])
	}
	waitFor(t, "the agent told about the draft", func() bool {
		for _, c := range f.Called("chat.postEphemeral") {
			if strings.Contains(c.Form.Get("text"), "知识库草稿 #1") {
				return true
			}
		}
		return false
	})
	if r := f.Refused(); len(r) > 0 {
		t.Errorf("the fake refused %+v", r)
	}
}
