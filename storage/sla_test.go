package storage_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/bot/sla"
	"github.com/kefu-dev/kefu/internal/testenv"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

func openSLA(t *testing.T, dialect string, p *sla.Policy) *storage.DB {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "kefu.db")
	if dialect == "postgres" {
		dsn, _ = storetest.PostgresSchemaDSN(t)
	}
	db, err := storage.Open(context.Background(), dsn, storage.Options{SLA: p})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func fired(ns []sla.Notify) []string {
	var out []string
	for _, n := range ns {
		out = append(out, fmt.Sprintf("%s/%s/%d", n.Kind, n.Target, n.Level))
	}
	sort.Strings(out)
	return out
}

// TestSLAClockAndScanner follows a P0 ticket (24x7: first response 30m, resolution 4h) through the
// real bot/sla scanner on this store: warning, breach with its met=false stamp, the clock moving on
// with the agent's reply, a customer update in the outbox, and each notification exactly once even
// with three scanners racing.
func TestSLAClockAndScanner(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			if dialect == "postgres" && os.Getenv(storetest.EnvPostgres) == "" {
				testenv.Skip(t, testenv.Postgres, storetest.EnvPostgres+" is not set")
			}
			policy, err := sla.New(sla.DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			db := openSLA(t, dialect, policy)
			ctx := context.Background()
			t0 := time.Date(2026, 11, 23, 1, 30, 0, 0, time.UTC)
			store, err := db.SLA(storage.SLAOptions{CustomerText: func(lang string, tk bot.Ticket) string {
				return lang + ":still working on " + tk.No
			}})
			if err != nil {
				t.Fatal(err)
			}
			var tk bot.Ticket
			err = db.Tx(ctx, func(tx bot.Tx) error {
				conv, err := tx.SaveInbound(ctx, bot.Event{Channel: bot.ChannelWeb, MsgID: "1", ChatID: "s", UserID: "s", Text: "help", At: t0})
				if err != nil {
					return err
				}
				tk, err = tx.CreateTicket(ctx, bot.Ticket{ConversationID: conv.ID, CustomerID: conv.CustomerID, Channel: bot.ChannelWeb,
					Lang: "en", Priority: bot.P0, Status: bot.StatusOpen, CreatedAt: t0, FirstResponseDue: t0.Add(30 * time.Minute),
					ResolutionDue: t0.Add(4 * time.Hour)}, "20261123")
				if err != nil {
					return err
				}
				_, err = tx.AddEvent(ctx, bot.TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: t0, Actor: "customer", Kind: bot.EvCreated})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			scanners := make([]*sla.Scanner, 3)
			for i := range scanners {
				scanners[i], err = sla.NewScanner(sla.Options{Store: store, Policy: policy})
				if err != nil {
					t.Fatal(err)
				}
			}
			scan := func(at time.Time) []string {
				t.Helper()
				var mu sync.Mutex
				var all []sla.Notify
				var wg sync.WaitGroup
				for _, s := range scanners {
					wg.Add(1)
					go func() {
						defer wg.Done()
						ns, err := s.Scan(ctx, at)
						if err != nil {
							t.Errorf("scan: %v", err)
						}
						mu.Lock()
						all = append(all, ns...)
						mu.Unlock()
					}()
				}
				wg.Wait()
				return fired(all)
			}

			if got := scan(t0.Add(10 * time.Minute)); len(got) != 0 {
				t.Errorf("at +10m: %v", got)
			}
			if got := scan(t0.Add(23 * time.Minute)); !cmp.Equal(got, []string{"warn/first_response/0"}) {
				t.Errorf("at +23m: %v", got)
			}
			if got := scan(t0.Add(24 * time.Minute)); len(got) != 0 {
				t.Errorf("warning repeated: %v", got)
			}
			if got := scan(t0.Add(31 * time.Minute)); !cmp.Equal(got, []string{"breach/first_response/1"}) {
				t.Errorf("at +31m: %v", got)
			}
			if fr, _, _ := db.SLAStamps(ctx, tk.No); fr == nil || *fr {
				t.Errorf("first response stamp after breach: %v", fr)
			}
			// The agent answers at +35m: first response done (late), the clock moves on.
			err = db.Tx(ctx, func(tx bot.Tx) error {
				cur, err := tx.LockTicket(ctx, tk.No)
				if err != nil {
					return err
				}
				at := t0.Add(35 * time.Minute)
				cur.FirstResponseAt, cur.Status = &at, bot.StatusInProgress
				if err := tx.UpdateTicket(ctx, cur); err != nil {
					return err
				}
				_, err = tx.AddEvent(ctx, bot.TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: at, Actor: "cli:a", Kind: bot.EvAgentReply, Text: "hi"})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			// No update reached the customer for 4h after the reply: they are told, once, in their language.
			before, _ := db.OutboxRows(ctx, bot.ChannelWeb, "s")
			got := scan(t0.Add(35*time.Minute + 4*time.Hour + time.Minute))
			n := 0
			for _, g := range got {
				if g == "customer_update//0" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("customer updates fired: %v", got)
			}
			after, _ := db.OutboxRows(ctx, bot.ChannelWeb, "s")
			if len(after) != len(before)+1 || after[len(after)-1].Text != "en:still working on "+tk.No {
				t.Errorf("customer update outbox: %+v", after)
			}
			// Every fired notification is in the audit trail as an EvSLA event.
			evs, _ := db.TicketEvents(ctx, tk.ID)
			var slaEvents int
			for _, ev := range evs {
				if ev.Kind == bot.EvSLA {
					if _, err := sla.ParseNotify(ev.Text); err != nil {
						t.Errorf("sla event text: %v", err)
					}
					slaEvents++
				}
			}
			if slaEvents != 2+len(got) {
				t.Errorf("%d sla events, want %d", slaEvents, 2+len(got))
			}
		})
	}
}

// slaT0 is when the fixtures of the SLA race tests open their ticket.
var slaT0 = time.Date(2026, 11, 23, 1, 30, 0, 0, time.UTC)

// newSLATicket opens a PostgreSQL database with the default SLA policy, its sla.Store with o, and one
// open P0 web ticket created at slaT0 (its conversation is returned too).
func newSLATicket(t *testing.T, o storage.SLAOptions) (*storage.DB, *storage.SLAStore, bot.Conversation, bot.Ticket) {
	t.Helper()
	policy, err := sla.New(sla.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	db := openSLA(t, "postgres", policy)
	ctx := context.Background()
	store, err := db.SLA(o)
	if err != nil {
		t.Fatal(err)
	}
	var conv bot.Conversation
	var tk bot.Ticket
	err = db.Tx(ctx, func(tx bot.Tx) error {
		conv, err = tx.SaveInbound(ctx, bot.Event{Channel: bot.ChannelWeb, MsgID: "1", ChatID: "s", UserID: "s", Text: "help", At: slaT0})
		if err != nil {
			return err
		}
		tk, err = tx.CreateTicket(ctx, bot.Ticket{ConversationID: conv.ID, CustomerID: conv.CustomerID, Channel: bot.ChannelWeb,
			Lang: "en", Priority: bot.P0, Status: bot.StatusOpen, CreatedAt: slaT0}, "20261123")
		if err != nil {
			return err
		}
		_, err = tx.AddEvent(ctx, bot.TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: slaT0, Actor: "customer", Kind: bot.EvCreated})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return db, store, conv, tk
}
