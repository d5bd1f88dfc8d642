package bot_test

import (
	"context"
	"testing"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// Tests added where the mutation pass (scripts/mutate) found a one-line break no test noticed.

// TestClaimMovesOnlyOpenTickets: claiming an open ticket puts it in progress; claiming a ticket that
// waits on the customer (pending) leaves its status alone, and the claimer holds it either way.
func TestClaimMovesOnlyOpenTickets(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.say(t, "a", "ticket first problem")
	e.say(t, "b", "ticket second problem")
	tk, err := e.eng.Claim(ctx, alice, "GD20261123001")
	if err != nil || tk.Status != bot.StatusInProgress || tk.Assignee != alice.ID {
		t.Fatalf("claim of an open ticket: %s held by %q, %v; want in_progress, %s", tk.Status, tk.Assignee, err, alice.ID)
	}
	if _, err := e.eng.SetStatus(ctx, alice, "GD20261123002", bot.StatusPending); err != nil {
		t.Fatal(err)
	}
	tk, err = e.eng.Claim(ctx, bot.Actor{ID: "cli:bob"}, "GD20261123002")
	if err != nil {
		t.Fatal(err)
	}
	if stored, _ := e.db.TicketByNo(ctx, "GD20261123002"); stored.Status != bot.StatusPending || stored.Assignee != "cli:bob" {
		t.Errorf("claim of a pending ticket: %s held by %q; want pending, held by cli:bob", stored.Status, stored.Assignee)
	}
}

// TestNewRefusesAgentWithoutID: an agent configured without an id is refused at start (it would
// match every actor whose id is empty).
func TestNewRefusesAgentWithoutID(t *testing.T) {
	db := storetest.OpenSQLite(t)
	for _, agents := range [][]bot.AgentConfig{{{ID: "", Name: "Nobody"}}, {{ID: "cli:a"}, {Name: "second without id"}}} {
		if _, err := bot.New(bot.Options{Store: db, Flows: scripted{}, KB: fakeKB{}, Catalog: catalog{}, Agents: agents}); err == nil {
			t.Errorf("bot.New with agents %+v: no error", agents)
		}
	}
	if _, err := bot.New(bot.Options{Store: db, Flows: scripted{}, KB: fakeKB{}, Catalog: catalog{}, Agents: []bot.AgentConfig{{ID: "cli:a"}}}); err != nil {
		t.Errorf("bot.New with a valid agent: %v", err)
	}
}
