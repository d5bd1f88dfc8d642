package bot_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kefu-dev/kefu/bot"
)

// TestCustomerCannotChangeAnothersTicket: ticket effects that name another customer's ticket
// (confirm solved, reopen, rate, comment, adding a message) change nothing and write no event; the
// owner doing the same does change the ticket (so the attempts are real). Guards: the ownership
// checks of Engine.customerTicket and Engine.addToTicket.
func TestCustomerCannotChangeAnothersTicket(t *testing.T) { forEachDB(t, testForeignTicket) }

func testForeignTicket(t *testing.T, mk envMaker) {
	e := mk(t)
	ctx := context.Background()
	const no = "GD20261123001"
	e.say(t, "a", "ticket a's problem")
	e.say(t, "b", "hi")
	ticket := func() bot.Ticket {
		t.Helper()
		tk, err := e.db.TicketByNo(ctx, no)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	events := func() []string {
		t.Helper()
		tk := ticket()
		evs, err := e.db.TicketEvents(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ev := range evs {
			out = append(out, string(ev.Kind)+" "+ev.Text)
		}
		return out
	}
	notYours := []string{"en:ticket.not_yours|no=" + no}

	// b points its session at a's ticket and writes into it.
	e.say(t, "b", "/adopt "+no)
	e.say(t, "b", "sneaky text from b")
	if evs := events(); slices.Contains(evs, "customer_message sneaky text from b") {
		t.Errorf("b's message was added to a's ticket: %q", evs)
	}
	before := events()
	for _, c := range []string{"/confirm " + no, "/reopen " + no, "/rate " + no + " 1", "/comment " + no + " nasty"} {
		if got := e.say(t, "b", c); !cmp.Equal(got, notYours) {
			t.Errorf("b %q: replies %q, want %q", c, got, notYours)
		}
	}
	if tk := ticket(); tk.Status != bot.StatusOpen || tk.Rating != 0 || tk.RatingComment != "" || tk.Reopens != 0 {
		t.Errorf("after b's attempts the ticket is %s rating %d comment %q reopens %d; want it untouched",
			tk.Status, tk.Rating, tk.RatingComment, tk.Reopens)
	}
	if d := cmp.Diff(before, events()); d != "" {
		t.Errorf("b's attempts wrote events (-before +after):\n%s", d)
	}

	// The owner's same effects work: the attempts above were refused, not ineffective.
	e.say(t, "a", "more from a")
	e.say(t, "a", "/confirm "+no)
	if tk := ticket(); tk.Status != bot.StatusClosed {
		t.Fatalf("owner's confirm: status %s, want closed", tk.Status)
	}
	if got := e.say(t, "b", "/reopen "+no); !cmp.Equal(got, notYours) {
		t.Errorf("b reopen of the closed ticket: %q", got)
	}
	if tk := ticket(); tk.Status != bot.StatusClosed || tk.Reopens != 0 {
		t.Errorf("b reopened a's closed ticket: %s, %d reopens", tk.Status, tk.Reopens)
	}
	e.say(t, "a", "/rate "+no+" 5")
	e.say(t, "a", "/comment "+no+" thanks")
	e.say(t, "a", "/reopen "+no)
	if tk := ticket(); tk.Rating != 5 || tk.RatingComment != "thanks" || tk.Reopens != 1 {
		t.Errorf("owner's rate/comment/reopen: rating %d comment %q reopens %d", tk.Rating, tk.RatingComment, tk.Reopens)
	}
	if evs := events(); !slices.Contains(evs, "customer_message more from a") {
		t.Errorf("owner's message not on the ticket: %q", evs)
	}
}
