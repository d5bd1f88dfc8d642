package bot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// An agent's reply from an FAQ entry reaches the customer, counts as the first response and is
// recorded as a knowledge-base citation; an unknown entry changes nothing. The customer's earlier
// tickets are listed without the ticket itself.
func TestReplyFAQAndHistory(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.say(t, "s", "ticket first")
	if _, err := e.eng.Reply(ctx, alice, "GD20261123001", "hi"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Close(ctx, alice, "GD20261123001"); err != nil {
		t.Fatal(err)
	}
	e.say(t, "s", "ticket second")
	no := "GD20261123002"
	before, _ := e.db.LastWebMessageID(ctx, "s")
	if _, err := e.eng.ReplyFAQ(ctx, alice, no, "nope"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("unknown entry: %v", err)
	}
	if got := e.after(t, "s", before); len(got) != 0 {
		t.Errorf("unknown entry sent %q", got)
	}
	tk, err := e.eng.ReplyFAQ(ctx, alice, no, "refund")
	if err != nil {
		t.Fatal(err)
	}
	if tk.FirstResponseAt == nil {
		t.Error("an FAQ reply is no first response")
	}
	if got := e.after(t, "s", before); len(got) != 1 || got[0] == "" {
		t.Errorf("customer got %q", got)
	}
	stats, err := e.db.FAQStats(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	cited := 0
	for _, s := range stats {
		if s.EntryID == "refund" {
			cited = s.Cited
		}
	}
	if cited != 1 {
		t.Errorf("refund cited %d times (%+v)", cited, stats)
	}
	_, evs, _ := e.eng.Ticket(ctx, no)
	if k := evs[len(evs)-1].Kind; k != bot.EvFAQReply {
		t.Errorf("last event %s", k)
	}
	hist, err := e.eng.CustomerHistory(ctx, tk, 5)
	if err != nil || len(hist) != 1 || hist[0].No != "GD20261123001" || hist[0].Status != bot.StatusClosed {
		t.Errorf("history %+v %v", hist, err)
	}
}
