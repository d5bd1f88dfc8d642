package slack

import (
	"errors"
	"strings"
	"testing"
)

// PostDigest posts the text to the supervisors' channel; without one it says so.
func TestPostDigest(t *testing.T) {
	e := newEnv(t)
	if err := e.app.PostDigest(t.Context(), "*📊 日报 2026-11-22*\n新建工单 12"); err != nil {
		t.Fatal(err)
	}
	posts := e.slack.Called("chat.postMessage")
	if len(posts) != 1 || posts[0].Form.Get("channel") != "CSUP" || !strings.Contains(posts[0].Form.Get("text"), "新建工单 12") {
		t.Fatalf("posts %+v; want the digest in CSUP", posts)
	}
	none := newEnv(t, func(o *Options) { o.Routing.Supervisors = "" })
	if err := none.app.PostDigest(t.Context(), "x"); !errors.Is(err, ErrNoSupervisorsChannel) {
		t.Errorf("no channel: %v", err)
	}
}
