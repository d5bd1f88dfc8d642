package telegram

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/telegram/telegramtest"
	"github.com/kefu-dev/kefu/bot"
)

const (
	testToken    = telegramtest.Token
	testBotID    = telegramtest.BotID
	testBotName  = telegramtest.BotName
	fakeFilePath = telegramtest.FilePath
)

// fakeAPI is the fake Bot API (package telegramtest), shared with other packages' journey tests.
type fakeAPI = telegramtest.Server

func newFakeAPI(t testing.TB) *fakeAPI { return telegramtest.NewServer(t) }

// newTestAdapter builds an Adapter on the fake with fast test settings; mod may change them.
func newTestAdapter(t *testing.T, f *fakeAPI, mod func(*Options)) *Adapter {
	t.Helper()
	o := Options{
		Token:           testToken,
		APIURL:          f.URL,
		PollTimeout:     time.Second,
		PerChatInterval: time.Millisecond,
		GlobalRate:      100000,
		Logger:          testLogger(t),
	}
	if mod != nil {
		mod(&o)
	}
	a, err := New(t.Context(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	a.backoff = bot.Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond, Jitter: 0.2}
	return a
}

// runAdapter runs a.Run in the background; the returned stop cancels it and waits for it to return.
func runAdapter(t *testing.T, a *Adapter, sink bot.Sink) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, sink) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return within 10s of cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}
