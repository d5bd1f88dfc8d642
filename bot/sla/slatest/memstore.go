// Package slatest holds an in-memory sla.Store for tests: it keeps the exactly-once contract of
// MarkFired and the lease/version rules of DueForAction and Reschedule, as the SQL store must.
package slatest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/kefu-dev/kefu/bot/sla"
)

type ticket struct {
	item sla.Item
	next time.Time // zero: not due for anything (NULL)
}

type firedKey struct {
	ticket int64
	kind   sla.Kind
	target sla.Target
	level  int
	due    int64 // UnixNano: time.Time values for one instant may differ in location
}

func keyOf(k sla.Key) firedKey {
	return firedKey{k.TicketID, k.Kind, k.Target, k.Level, k.Due.UnixNano()}
}

// MemStore is a concurrency-safe in-memory sla.Store.
type MemStore struct {
	// Lease is how far DueForAction pushes a claimed ticket's next check. Zero disables claiming,
	// so every concurrent scanner sees every due ticket: the harshest test of MarkFired.
	Lease time.Duration

	mu      sync.Mutex
	tickets map[int64]*ticket
	fired   map[firedKey]sla.Notify
	log     []sla.Notify // recorded notifications in order
	calls   int          // MarkFired calls
}

var _ sla.Store = (*MemStore)(nil)

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{tickets: map[int64]*ticket{}, fired: map[firedKey]sla.Notify{}}
}

// Put stores or replaces a ticket (bumping its version, as the engine does on a change) with its
// next check time.
func (m *MemStore) Put(it sla.Item, next time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.tickets[it.TicketID]; ok && it.Version <= old.item.Version {
		it.Version = old.item.Version + 1
	}
	m.tickets[it.TicketID] = &ticket{item: it, next: next}
}

// Item returns a stored ticket and its next check time.
func (m *MemStore) Item(id int64) (sla.Item, time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tickets[id]
	if !ok {
		return sla.Item{}, time.Time{}, false
	}
	return t.item, t.next, true
}

// Fired returns the recorded notifications in the order they were recorded.
func (m *MemStore) Fired() []sla.Notify {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.log)
}

// MarkCalls returns how many times MarkFired was called (recorded or not).
func (m *MemStore) MarkCalls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// DueForAction implements sla.Store.
func (m *MemStore) DueForAction(ctx context.Context, now time.Time, limit int) ([]sla.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []*ticket
	for _, t := range m.tickets {
		if !t.next.IsZero() && !t.next.After(now) {
			due = append(due, t)
		}
	}
	slices.SortFunc(due, func(a, b *ticket) int {
		if c := a.next.Compare(b.next); c != 0 {
			return c
		}
		return int(a.item.TicketID - b.item.TicketID)
	})
	if len(due) > limit {
		due = due[:limit]
	}
	out := make([]sla.Item, len(due))
	for i, t := range due {
		out[i] = t.item
		if m.Lease > 0 {
			t.next = now.Add(m.Lease)
		}
	}
	return out, nil
}

// MarkFired implements sla.Store: the first call per key records n and returns true.
func (m *MemStore) MarkFired(ctx context.Context, n sla.Notify) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	k := keyOf(n.Key)
	if _, ok := m.fired[k]; ok {
		return false, nil
	}
	m.fired[k] = n
	m.log = append(m.log, n)
	return true, nil
}

// Reschedule implements sla.Store.
func (m *MemStore) Reschedule(ctx context.Context, ticketID, version int64, next time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.tickets[ticketID]; ok && t.item.Version == version {
		t.next = next
	}
	return nil
}
