package slack

import (
	"context"
	"errors"
	"fmt"

	"github.com/slack-go/slack"
)

// ErrNoSupervisorsChannel is returned by PostDigest when Routing.Supervisors is not configured.
var ErrNoSupervisorsChannel = errors.New("slack: no supervisors channel configured")

// PostDigest posts a ready-rendered report digest (mrkdwn) to the supervisors' channel. The caller
// (reports/digest) makes sure each digest is posted once across processes; a rate limit comes back as
// *slack.RateLimitedError so the caller retries later.
func (a *App) PostDigest(ctx context.Context, text string) error {
	ch := a.o.Routing.Supervisors
	if ch == "" {
		return ErrNoSupervisorsChannel
	}
	if _, _, err := a.api.PostMessageContext(ctx, ch, slack.MsgOptionText(text, false)); err != nil {
		return fmt.Errorf("slack: post digest to %s: %w", ch, err)
	}
	return nil
}
