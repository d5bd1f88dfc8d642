// Package memstate is the in-memory key-value and lease store the WeChat, WeCom and e-mail adapters
// use when no database-backed State is given: one process, and tests.
package memstate

import (
	"context"
	"sync"
	"time"
)

// State keeps values and leases in memory; safe for concurrent use.
type State struct {
	mu     sync.Mutex
	kv     map[string]string
	leases map[string]lease
}

type lease struct {
	holder string
	until  time.Time
}

// New returns an empty State.
func New() *State { return &State{kv: map[string]string{}, leases: map[string]lease{}} }

// GetKV returns the value of key and whether it is set.
func (m *State) GetKV(_ context.Context, key string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.kv[key]
	return v, ok, nil
}

// SetKV sets key to value.
func (m *State) SetKV(_ context.Context, key, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.kv[key] = value
	return nil
}

// Lease takes or renews the lease name for holder for ttl; false while another holder's lease runs.
func (m *State) Lease(_ context.Context, name, holder string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if l, ok := m.leases[name]; ok && l.holder != holder && now.Before(l.until) {
		return false, nil
	}
	m.leases[name] = lease{holder: holder, until: now.Add(ttl)}
	return true, nil
}

// Snapshot returns a copy of every key and value (tests look for what must not be stored).
func (m *State) Snapshot() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]string, len(m.kv))
	for k, v := range m.kv {
		out[k] = v
	}
	return out
}
