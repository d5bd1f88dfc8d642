package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// TestMetricsMediaRetries: a WeCom file whose download failed shows on /metrics as a pending retry,
// labelled by channel and state only.
func TestMetricsMediaRetries(t *testing.T) {
	dbURL := filepath.Join(t.TempDir(), "kefu.db")
	s := startServer(t, dbURL)
	if v, ok := metricValue(s.scrape(t), "kefu_media_retries", map[string]string{"channel": "wecom", "state": "pending"}); ok && v != 0 {
		t.Fatalf("pending retries before any: %v", v)
	}
	db := openTestDB(t, dbURL)
	ctx := context.Background()
	err := db.Tx(ctx, func(tx bot.Tx) error {
		_, err := tx.SaveInbound(ctx, bot.Event{Channel: bot.ChannelWeCom, MsgID: "m1", ChatID: "kf|u1", UserID: "u1", Kind: bot.KindMedia,
			At: time.Now(), Attachments: []bot.Attachment{{Type: "photo", FileID: "MEDIA-secret-id", Failed: true}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	fams := s.scrape(t)
	if v, ok := metricValue(fams, "kefu_media_retries", map[string]string{"channel": "wecom", "state": "pending"}); !ok || v != 1 {
		t.Fatalf("kefu_media_retries{wecom,pending} = %v (%v), want 1", v, ok)
	}
	for _, m := range fams["kefu_media_retries"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() != "channel" && l.GetName() != "state" {
				t.Errorf("unexpected label %s=%s", l.GetName(), l.GetValue())
			}
		}
	}
}
