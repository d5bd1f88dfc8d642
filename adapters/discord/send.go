package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/kefu-dev/kefu/bot"
)

// Discord's limits (https://discord.com/developers/docs/resources/message#create-message,
// .../components/reference#button).
const (
	maxContent     = 2000
	maxLabel       = 80
	maxCustomID    = 100
	buttonsPerRow  = 5
	rowsPerMessage = 5
	maxNonce       = 25
)

// ErrBadReply marks a reply Discord cannot carry (empty, custom_id too long); Send wraps it in a
// *bot.PermanentError so the outbox gives up at once.
var ErrBadReply = errors.New("discord: reply cannot be sent")

// outMessage is Create Message's body: discordgo's MessageSend has no nonce fields. With
// enforce_nonce Discord returns the message already created with that nonce (a few minutes'
// window) instead of posting it twice, so an outbox retry after a timeout does not duplicate.
type outMessage struct {
	discordgo.MessageSend
	Nonce        string `json:"nonce,omitempty"`
	EnforceNonce bool   `json:"enforce_nonce,omitempty"`
}

// noMentions keeps relayed text from pinging @everyone, roles or users.
var noMentions = &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}

// Send posts r to the channel r.ChatID (a DM channel or thread; "user:ID" opens a DM first).
// Text over 2000 characters is split into several messages; buttons become action rows (5 per
// row, 5 rows per message; more buttons go to further messages). It returns the id of the
// message carrying the first buttons, or of the last message when there are none.
//
// Errors: a 429 gives *bot.RateLimitedError{Wait: retry_after} (discordgo's sleep-and-retry is
// off); 400, 403 and 404 (unknown channel, DMs closed, no access) give *bot.PermanentError.
func (a *Adapter) Send(ctx context.Context, r bot.Reply) (string, error) {
	msgs, err := buildMessages(r)
	if err != nil {
		return "", &bot.PermanentError{Err: fmt.Errorf("discord: send to %s: %w", r.ChatID, err)}
	}
	chatID := r.ChatID
	if uid, ok := strings.CutPrefix(chatID, "user:"); ok {
		ch, err := a.s.UserChannelCreate(uid, discordgo.WithContext(ctx))
		if err != nil {
			return "", mapErr("open DM with "+uid, err)
		}
		chatID = ch.ID
	}
	var ids []string
	keyboardID := ""
	for n, m := range msgs {
		id := ""
		if n == 0 {
			if p, ok := a.takePending(chatID); ok {
				id, err = a.answerInteraction(ctx, p, m)
				if err != nil {
					var rl *bot.RateLimitedError
					if errors.As(err, &rl) {
						a.restorePending(chatID, p)
						return "", err
					}
					a.log.Debug("deferred interaction answer failed; sending a message instead", "chat_id", chatID, "err", err)
					id = ""
				}
			}
		}
		if id == "" {
			if r.OutboxID > 0 {
				m.Nonce = nonce(r.OutboxID, n)
				m.EnforceNonce = true
			}
			id, err = a.post(ctx, chatID, m)
			if err != nil {
				return "", err
			}
		}
		ids = append(ids, id)
		if keyboardID == "" && len(m.Components) > 0 {
			keyboardID = id
		}
	}
	if keyboardID != "" {
		return keyboardID, nil
	}
	return ids[len(ids)-1], nil
}

func (a *Adapter) restorePending(chatID string, p pendingInteraction) {
	a.mu.Lock()
	if _, ok := a.pending[chatID]; !ok {
		a.pending[chatID] = p
	}
	a.mu.Unlock()
}

func (a *Adapter) post(ctx context.Context, chatID string, m outMessage) (string, error) {
	ep := discordgo.EndpointChannelMessages(chatID)
	body, err := a.s.RequestWithBucketID(http.MethodPost, ep, m, ep, discordgo.WithContext(ctx))
	if err != nil {
		return "", mapErr("send to "+chatID, err)
	}
	var msg discordgo.Message
	if err := json.Unmarshal(body, &msg); err != nil || msg.ID == "" {
		return "", fmt.Errorf("discord: send to %s: bad response %.200q: %v", chatID, body, err)
	}
	return msg.ID, nil
}

// answerInteraction turns a deferred slash command's "thinking…" into m.
func (a *Adapter) answerInteraction(ctx context.Context, p pendingInteraction, m outMessage) (string, error) {
	content := m.Content
	comps := m.Components
	if comps == nil {
		comps = []discordgo.MessageComponent{}
	}
	msg, err := a.s.InteractionResponseEdit(&discordgo.Interaction{AppID: p.appID, Token: p.token},
		&discordgo.WebhookEdit{Content: &content, Components: &comps, AllowedMentions: noMentions},
		discordgo.WithContext(ctx))
	if err != nil {
		return "", mapErr("answer interaction", err)
	}
	if msg == nil || msg.ID == "" {
		return "", errors.New("discord: answer interaction: no message in response")
	}
	return msg.ID, nil
}

// Edit changes a sent message: its text when r.Text is set, and its buttons (none removes them).
func (a *Adapter) Edit(ctx context.Context, chatID, msgID string, r bot.Reply) error {
	groups, err := keyboards(r.Buttons)
	if err == nil && len(groups) > 1 {
		err = fmt.Errorf("%w: %d buttons do not fit one message", ErrBadReply, len(r.Buttons))
	}
	if err == nil && utf8.RuneCountInString(r.Text) > maxContent {
		err = fmt.Errorf("%w: text over %d characters", ErrBadReply, maxContent)
	}
	if err != nil {
		return &bot.PermanentError{Err: fmt.Errorf("discord: edit %s/%s: %w", chatID, msgID, err)}
	}
	comps := []discordgo.MessageComponent{}
	if len(groups) == 1 {
		comps = groups[0]
	}
	e := discordgo.NewMessageEdit(chatID, msgID)
	e.Components = &comps
	e.AllowedMentions = noMentions
	if r.Text != "" {
		e.SetContent(r.Text)
	}
	if _, err := a.s.ChannelMessageEditComplex(e, discordgo.WithContext(ctx)); err != nil {
		return mapErr("edit "+chatID+"/"+msgID, err)
	}
	return nil
}

// buildMessages lays r out as Discord messages.
func buildMessages(r bot.Reply) ([]outMessage, error) {
	groups, err := keyboards(r.Buttons)
	if err != nil {
		return nil, err
	}
	text := strings.TrimSpace(r.Text)
	if text == "" && len(groups) == 0 {
		return nil, fmt.Errorf("%w: empty reply", ErrBadReply)
	}
	var msgs []outMessage
	if text != "" {
		for _, part := range splitText(text, maxContent) {
			msgs = append(msgs, outMessage{MessageSend: discordgo.MessageSend{Content: part, AllowedMentions: noMentions}})
		}
	}
	for n, g := range groups {
		if n == 0 && len(msgs) > 0 {
			msgs[len(msgs)-1].Components = g
			continue
		}
		msgs = append(msgs, outMessage{MessageSend: discordgo.MessageSend{Components: g, AllowedMentions: noMentions}})
	}
	return msgs, nil
}

// keyboards turns buttons into groups of at most 5 action rows of at most 5 buttons.
func keyboards(buttons []bot.Button) ([][]discordgo.MessageComponent, error) {
	var groups [][]discordgo.MessageComponent
	var row []discordgo.MessageComponent
	var rows []discordgo.MessageComponent
	flushRow := func() {
		if len(row) > 0 {
			rows = append(rows, discordgo.ActionsRow{Components: row})
			row = nil
		}
	}
	for n, b := range buttons {
		if b.Payload == "" || len(b.Payload) > maxCustomID {
			return nil, fmt.Errorf("%w: button %d payload must be 1..%d bytes, got %d", ErrBadReply, n, maxCustomID, len(b.Payload))
		}
		label := strings.TrimSpace(b.Label)
		if label == "" {
			label = b.Payload
		}
		row = append(row, discordgo.Button{Label: truncate(label, maxLabel), Style: discordgo.SecondaryButton, CustomID: b.Payload})
		if len(row) == buttonsPerRow {
			flushRow()
		}
		if len(rows) == rowsPerMessage {
			groups = append(groups, rows)
			rows = nil
		}
	}
	flushRow()
	if len(rows) > 0 {
		groups = append(groups, rows)
	}
	return groups, nil
}

func nonce(outboxID int64, part int) string {
	n := "k" + strconv.FormatInt(outboxID, 36) + "." + strconv.Itoa(part)
	if len(n) > maxNonce {
		n = n[:maxNonce]
	}
	return n
}

// mapErr turns discordgo errors into the bot contract's: 429 -> *bot.RateLimitedError; 400, 403,
// 404 -> *bot.PermanentError; anything else is wrapped and retried by the caller.
func mapErr(op string, err error) error {
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) && rl.RateLimit != nil && rl.TooManyRequests != nil {
		wait := rl.RetryAfter
		if wait <= 0 {
			wait = time.Second
		}
		return &bot.RateLimitedError{Wait: wait}
	}
	wrapped := fmt.Errorf("discord: %s: %w", op, err)
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		switch re.Response.StatusCode {
		case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound:
			return &bot.PermanentError{Err: wrapped}
		}
	}
	return wrapped
}
