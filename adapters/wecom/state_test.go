package wecom

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kefu-dev/kefu/adapters/adaptertest"
	"github.com/kefu-dev/kefu/adapters/wecom/wecomtest"
	"github.com/kefu-dev/kefu/bot"
)

// The session's service state: the API holds a new session once it answers, so the bot and the
// agents' relayed replies go through; a session a WeCom servicer took (or that waits in their queue)
// refuses API replies, which become a permanent ErrTakenOver (the agents get a note), not a retry and
// not the 48-hour error.
func TestServiceState(t *testing.T) {
	chat := ChatID(wecomtest.OpenKfID, customer)
	tests := []struct {
		name      string
		state     int
		wantState int
		takenOver bool
		window    bool
	}{
		{"new: the API answers and holds it", wecomtest.StateNew, wecomtest.StateBot, false, false},
		{"held by the API", wecomtest.StateBot, wecomtest.StateBot, false, false},
		{"a servicer took it in WeCom", wecomtest.StateServicer, wecomtest.StateServicer, true, false},
		{"waiting in the servicers' queue", wecomtest.StatePool, wecomtest.StatePool, true, false},
		{"ended", wecomtest.StateEnded, wecomtest.StateEnded, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			a := r.adapter(t)
			start(t, a, adaptertest.NewStore())
			r.f.Follow(customer)
			r.f.SetServiceState(customer, tc.state, "zhangsan")
			before := len(r.f.Sent())
			_, err := a.Send(t.Context(), bot.Reply{OutboxID: 1, ChatID: chat, Text: "您好"})
			var perm *bot.PermanentError
			switch {
			case tc.takenOver:
				if !errors.As(err, &perm) || !errors.Is(err, bot.ErrTakenOver) || errors.Is(err, bot.ErrWindowClosed) {
					t.Fatalf("Send = %v; want a permanent ErrTakenOver", err)
				}
			case tc.window:
				if !errors.As(err, &perm) || !errors.Is(err, bot.ErrWindowClosed) {
					t.Fatalf("Send = %v; want a permanent ErrWindowClosed", err)
				}
			case err != nil:
				t.Fatalf("Send = %v", err)
			case len(r.f.Sent()) != before+1:
				t.Fatalf("sent %d messages, want 1", len(r.f.Sent())-before)
			}
			if got := r.f.ServiceState(customer); got != tc.wantState {
				t.Errorf("service state %d, want %d", got, tc.wantState)
			}
			st, servicer, err := a.ServiceState(t.Context(), chat)
			if err != nil || st != tc.wantState || (st == wecomtest.StateServicer) != (servicer == "zhangsan") {
				t.Errorf("ServiceState = %d %q %v", st, servicer, err)
			}
		})
	}
}

// Images and files are fetched with the media API by the media_id stored as the attachment's FileID.
func TestDownload(t *testing.T) {
	r := newRig(t)
	a := r.adapter(t)
	png := []byte("\x89PNG\r\n\x1a\nfake image bytes")
	id := r.f.AddMedia(wecomtest.Media{ContentType: "image/png", Name: "fridge.png", Body: png})
	f, err := a.Download(t.Context(), id)
	if err != nil || !bytes.Equal(f.Body, png) || f.ContentType != "image/png" || f.Name != "fridge.png" {
		t.Fatalf("Download = %+v, %v", f, err)
	}
	r.f.RevokeTokens() // a refused token is refreshed once
	if _, err := a.Download(t.Context(), id); err != nil {
		t.Fatalf("download after revocation: %v", err)
	}
	var e *Error
	if _, err := a.Download(t.Context(), "MEDIA-gone"); !errors.As(err, &e) || e.Code != 40007 {
		t.Errorf("unknown media: %v, want errcode 40007", err)
	}
	if _, err := a.Download(t.Context(), ""); err == nil {
		t.Error("empty media id accepted")
	}
}
