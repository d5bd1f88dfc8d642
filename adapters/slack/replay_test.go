package slack

import (
	"testing"
	"time"
)

func TestReplayGuard(t *testing.T) {
	g := newReplayGuard(time.Minute)
	t0 := time.Unix(1000, 0)
	if !g.first("v0=a", t0) || g.first("v0=a", t0.Add(59*time.Second)) {
		t.Fatal("a signature must pass once within its window")
	}
	if !g.first("v0=b", t0) {
		t.Fatal("another signature must pass")
	}
	if !g.first("v0=a", t0.Add(2*time.Minute)) {
		t.Fatal("after the window the memory may forget (the verifier refuses the stale timestamp anyway)")
	}
	for i := 0; i < 2000; i++ { // bounded: expired entries are dropped
		g.first(string(rune('A'+i%50))+time.Duration(i).String(), t0.Add(time.Duration(i)*time.Minute))
	}
	if len(g.seen) > 1100 {
		t.Errorf("%d signatures remembered, want expired ones dropped", len(g.seen))
	}
}
