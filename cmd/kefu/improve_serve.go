package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/kefu-dev/kefu/improve"
)

// improveScanEvery is how often serve checks the thresholds and late improvement actions.
const improveScanEvery = 30 * time.Second

// improveWorker scans thresholds and late actions and delivers their pings: to the supervisors' Slack
// channel through post (mentioning the Slack owners), or to the log when post is nil. Every process
// runs one; the database makes each ping go out once.
func (a *app) improveWorker(post func(context.Context, string) error) func(context.Context) error {
	svc := a.improveService()
	t := a.localizedT()
	lang := a.cfg.Slack.Lang
	host, _ := os.Hostname()
	holder := fmt.Sprintf("%s-%d", host, os.Getpid())
	notify := func(ctx context.Context, p improve.Ping) error {
		text := mentions(p.Recipients) + t(lang, p.TextKey, p.Args)
		if post == nil {
			a.log.InfoContext(ctx, "improvement ping (no Slack supervisors channel)", "key", p.Key, "text", text)
			return nil
		}
		return post(ctx, text)
	}
	return func(ctx context.Context) error { return svc.Run(ctx, improveScanEvery, holder, notify, a.log) }
}
