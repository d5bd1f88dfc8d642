package slack

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/slack/slacktest"

	"github.com/kefu-dev/kefu/bot"
)

func viewSubmission(user, callback, meta, text string) map[string]any {
	return map[string]any{
		"type": "view_submission", "user": map[string]any{"id": user, "name": "u"},
		"view": map[string]any{"id": "V1", "callback_id": callback, "private_metadata": meta,
			"state": map[string]any{"values": map[string]any{inputBlock: map[string]any{inputAction: map[string]any{
				"type": "plain_text_input", "value": text}}}}},
	}
}

func TestReplyModal(t *testing.T) {
	e := newEnv(t)
	e.desk.create(ticketGD1())
	no := "GD20261123001"
	form := "application/x-www-form-urlencoded"
	w := e.do(t, slacktest.NewSignedRequest("/slack/interactions", form, slacktest.InteractionBody(slacktest.ButtonPayload(agent1, "CTECH", actReply, no)), time.Now(), testSecret))
	if w.Code != 200 {
		t.Fatalf("ack %d", w.Code)
	}
	views := e.slack.Called("views.open")
	if len(views) != 1 {
		t.Fatalf("views.open calls: %d", len(views))
	}
	view, _ := views[0].JSON["view"].(map[string]any)
	if views[0].JSON["trigger_id"] != "trig-1" || view["callback_id"] != viewReply || view["private_metadata"] != no+"|CTECH" {
		t.Fatalf("modal %v", views[0].JSON)
	}

	// An empty submission is refused on the input.
	w = e.do(t, slacktest.NewSignedRequest("/slack/interactions", form, slacktest.InteractionBody(viewSubmission(agent1, viewReply, no+"|CTECH", "  ")), time.Now(), testSecret))
	var resp struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || resp.ResponseAction != "errors" || resp.Errors[inputBlock] != "slack.error.empty" {
		t.Fatalf("empty submission answer %q (%v)", w.Body, err)
	}

	// A real reply reaches the customer and closes the modal.
	w = e.do(t, slacktest.NewSignedRequest("/slack/interactions", form, slacktest.InteractionBody(viewSubmission(agent1, viewReply, no+"|CTECH", "已为您退款")), time.Now(), testSecret))
	if w.Body.Len() != 0 {
		t.Fatalf("successful submission should close the modal, got %q", w.Body)
	}
	if _, to := e.desk.snapshot(); len(to) != 1 || to[0] != no+": 已为您退款" {
		t.Fatalf("customer got %q", to)
	}

	// The Desk refuses (closed ticket): the reason shows on the input.
	e.desk.mu.Lock()
	e.desk.tickets[no].Status = bot.StatusClosed
	e.desk.mu.Unlock()
	w = e.do(t, slacktest.NewSignedRequest("/slack/interactions", form, slacktest.InteractionBody(viewSubmission(agent1, viewReply, no+"|CTECH", "再补充一句")), time.Now(), testSecret))
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || !strings.Contains(resp.Errors[inputBlock], "slack.error.closed") {
		t.Fatalf("closed ticket answer %q", w.Body)
	}
}

func TestEscalateModalAndPrioritySelect(t *testing.T) {
	e := newEnv(t)
	e.desk.create(ticketGD1())
	no := "GD20261123001"
	form := "application/x-www-form-urlencoded"
	e.do(t, slacktest.NewSignedRequest("/slack/interactions", form, slacktest.InteractionBody(slacktest.ButtonPayload(agent1, "CTECH", actEscalate, no)), time.Now(), testSecret))
	views := e.slack.Called("views.open")
	if len(views) != 1 || views[0].JSON["view"].(map[string]any)["callback_id"] != viewEscalate {
		t.Fatalf("escalate modal: %v", views)
	}
	e.do(t, slacktest.NewSignedRequest("/slack/interactions", form, slacktest.InteractionBody(viewSubmission(agent1, viewEscalate, no+"|CTECH", "客户情绪激动")), time.Now(), testSecret))
	if tk := e.desk.ticket(no); !tk.Escalated {
		t.Fatal("not escalated")
	}
	e.do(t, slacktest.NewSignedRequest("/slack/interactions", form, slacktest.InteractionBody(slacktest.SelectPayload(agent1, "CTECH", actPriority, no+"|P0")), time.Now(), testSecret))
	if p := e.desk.ticket(no).Priority; p != bot.P0 {
		t.Fatalf("priority %s", p)
	}
	e.do(t, slacktest.NewSignedRequest("/slack/interactions", form, slacktest.InteractionBody(slacktest.SelectPayload(agent1, "CTECH", actPriority, no+"|P9")), time.Now(), testSecret))
	eph := e.slack.Called("chat.postEphemeral")
	if last := eph[len(eph)-1].Form.Get("text"); !strings.Contains(last, "slack.error.bad_input") {
		t.Errorf("bad priority answer %q", last)
	}
	// P0 after the fact: the supervisors get the card.
	e.sync(t)
	sup := 0
	for _, c := range e.slack.Called("chat.postMessage") {
		if c.Form.Get("channel") == "CSUP" && strings.Contains(c.Form.Get("blocks"), no) {
			sup++
		}
	}
	if sup != 1 {
		t.Errorf("supervisor cards: %d", sup)
	}
}
