package discord

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/discord/discordtest"
)

// TestGatewayGate: Run connects to the gateway only once GatewayGate lets it (a replica waiting for
// the gateway lease never connects), and a gate that fails stops Run with its error.
func TestGatewayGate(t *testing.T) {
	f := discordtest.NewServer(t)
	open := make(chan struct{})
	a, err := New(Options{Token: discordtest.Token, APIURL: f.URL, RetryMin: 5 * time.Millisecond,
		GatewayGate: func(ctx context.Context) error {
			select {
			case <-open:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, newRecSink()) }()
	time.Sleep(300 * time.Millisecond)
	if g := f.Gateway(); g.Identifies != 0 || g.Connected {
		t.Fatalf("connected before the gate opened: %+v", g)
	}
	close(open)
	f.WaitUntil("identify after the gate", func() bool { g := f.Gateway(); return g.Identifies == 1 && g.Connected })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}

	// A waiting replica that shuts down returns nil; a failing gate is an error.
	for _, c := range []struct {
		gateErr error
		cancel  bool
		wantErr bool
	}{{nil, true, false}, {errors.New("database down"), false, true}} {
		b, err := New(Options{Token: discordtest.Token, APIURL: f.URL, GatewayGate: func(ctx context.Context) error {
			if c.gateErr != nil {
				return c.gateErr
			}
			<-ctx.Done()
			return ctx.Err()
		}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		if c.cancel {
			time.AfterFunc(100*time.Millisecond, cancel)
		}
		err = b.Run(ctx, newRecSink())
		cancel()
		if (err != nil) != c.wantErr {
			t.Errorf("gate error %v: Run = %v", c.gateErr, err)
		}
	}
	if n := f.Gateway().Identifies; n != 1 {
		t.Errorf("%d identifies, want 1 (the gated adapters never connected)", n)
	}
}
