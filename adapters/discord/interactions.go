package discord

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/kefu-dev/kefu/bot"
)

// pendingInteraction is a slash command acknowledged with "thinking…" (deferred): the first reply
// kefu sends to that chat within the token's lifetime becomes the command's answer.
type pendingInteraction struct {
	appID, token string
	at           time.Time
}

// Interaction tokens live 15 minutes; leave a margin.
const pendingTTL = 14 * time.Minute

// maxInteractionBody bounds what ServeHTTP reads; real interactions are a few kilobytes.
const maxInteractionBody = 1 << 20

// signatureMaxAge rejects replays of an old signed request.
const signatureMaxAge = 5 * time.Minute

// ackTimeout keeps the acknowledgement inside Discord's 3-second window.
const ackTimeout = 2500 * time.Millisecond

// acknowledge decides how to answer an interaction at once (before the engine sees it):
//   - button: update the message so its keyboard shows only the chosen button, disabled, which
//     makes a used keyboard impossible to press twice;
//   - slash command in a DM or thread: deferred "thinking…", answered by the next Send to that chat;
//   - slash command in the support channel: an ephemeral echo, the answer goes to the private thread;
//   - autocomplete: no choices; anything else: a deferred update that changes nothing.
//
// It also returns the queued event when the interaction is one kefu handles.
func (a *Adapter) acknowledge(i *discordgo.Interaction) (*discordgo.InteractionResponse, *inbound) {
	ev, reason := interactionEvent(i)
	if reason != "" {
		a.log.Debug("interaction ignored", "interaction_id", i.ID, "reason", reason)
		if i.Type == discordgo.InteractionApplicationCommandAutocomplete {
			return &discordgo.InteractionResponse{
				Type: discordgo.InteractionApplicationCommandAutocompleteResult,
				Data: &discordgo.InteractionResponseData{Choices: []*discordgo.ApplicationCommandOptionChoice{}},
			}, nil
		}
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}, nil
	}
	a.mu.Lock()
	if ev.LangHint != "" {
		a.locales[ev.UserID] = ev.LangHint
	}
	a.mu.Unlock()
	it := &inbound{ev: ev, guildID: i.GuildID}
	inSupport := i.GuildID != "" && a.support != "" && i.ChannelID == a.support
	if inSupport {
		it.support = true
	}
	switch ev.Kind {
	case bot.KindButton:
		if i.Message == nil {
			return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}, it
		}
		return &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseUpdateMessage,
			Data: &discordgo.InteractionResponseData{
				Content:    i.Message.Content,
				Components: chosenKeyboard(i.Message.Components, ev.Payload),
			},
		}, it
	default: // command
		if inSupport {
			echo := "/" + ev.Payload
			if ev.Text != "" {
				echo += " " + ev.Text
			}
			return &discordgo.InteractionResponse{
				Type: discordgo.InteractionResponseChannelMessageWithSource,
				Data: &discordgo.InteractionResponseData{
					Content:         echo,
					Flags:           discordgo.MessageFlagsEphemeral,
					AllowedMentions: &discordgo.MessageAllowedMentions{},
				},
			}, it
		}
		a.mu.Lock()
		a.pending[ev.ChatID] = pendingInteraction{appID: firstNonEmpty(i.AppID, a.appID), token: i.Token, at: a.now()}
		a.mu.Unlock()
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}, it
	}
}

// chosenKeyboard replaces a message's components by one disabled button: the one pressed.
func chosenKeyboard(rows []discordgo.MessageComponent, customID string) []discordgo.MessageComponent {
	for _, row := range rows {
		var cs []discordgo.MessageComponent
		switch r := row.(type) {
		case *discordgo.ActionsRow:
			cs = r.Components
		case discordgo.ActionsRow:
			cs = r.Components
		}
		for _, c := range cs {
			b, ok := c.(*discordgo.Button)
			if v, isVal := c.(discordgo.Button); isVal {
				b, ok = &v, true
			}
			if ok && b.CustomID == customID {
				return []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
					discordgo.Button{Label: b.Label, Emoji: b.Emoji, Style: discordgo.SuccessButton, CustomID: customID, Disabled: true},
				}}}
			}
		}
	}
	return []discordgo.MessageComponent{}
}

// takePending returns and forgets the deferred slash command waiting for an answer in chatID.
func (a *Adapter) takePending(chatID string) (pendingInteraction, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.pending[chatID]
	if !ok {
		return p, false
	}
	delete(a.pending, chatID)
	// forget stale tokens of other chats while here
	for id, q := range a.pending {
		if a.now().Sub(q.at) > pendingTTL {
			delete(a.pending, id)
		}
	}
	return p, a.now().Sub(p.at) <= pendingTTL
}

// onInteractionCreate handles gateway interactions: acknowledge (REST callback) within 3 s, then
// queue the event for delivery.
func (a *Adapter) onInteractionCreate(s *discordgo.Session, ic *discordgo.InteractionCreate) {
	if ic.Interaction == nil {
		return
	}
	resp, it := a.acknowledge(ic.Interaction)
	ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
	err := s.InteractionRespond(ic.Interaction, resp, discordgo.WithContext(ctx))
	cancel()
	if err != nil {
		// Still deliver: the customer's press or command counts even if the ack came too late.
		a.log.Warn("interaction acknowledgement failed", "interaction_id", ic.ID, "err", err)
	}
	if it != nil {
		a.enqueue(context.Background(), *it)
	}
}

// ServeHTTP is the HTTP interactions endpoint (the application's "Interactions Endpoint URL").
// It verifies the ed25519 signature (401 when it is missing, wrong or older than 5 minutes),
// answers PING with PONG, and answers other interactions like the gateway path does, after
// queueing them for delivery (503 when the adapter is not taking events).
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if a.pubKey == nil {
		a.log.Error("interaction refused: no public key configured")
		http.Error(w, "interactions endpoint not configured", http.StatusServiceUnavailable)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxInteractionBody)
	if !discordgo.VerifyInteraction(r, a.pubKey) || !a.freshTimestamp(r.Header.Get("X-Signature-Timestamp")) {
		a.log.Warn("interaction with a bad signature refused", "remote", r.RemoteAddr)
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	var i discordgo.Interaction
	if err := json.Unmarshal(body, &i); err != nil {
		a.log.Warn("undecodable interaction", "err", err)
		http.Error(w, "bad interaction", http.StatusBadRequest)
		return
	}
	var resp *discordgo.InteractionResponse
	switch i.Type {
	case discordgo.InteractionPing:
		resp = &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong}
	default:
		var it *inbound
		resp, it = a.acknowledge(&i)
		if it != nil {
			ctx, cancel := context.WithTimeout(r.Context(), time.Second)
			ok := a.enqueue(ctx, *it)
			cancel()
			if !ok {
				http.Error(w, "not accepting interactions", http.StatusServiceUnavailable)
				return
			}
		}
	}
	out, err := json.Marshal(resp)
	if err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
}

func (a *Adapter) freshTimestamp(ts string) bool {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	d := a.now().Sub(time.Unix(sec, 0))
	return d <= signatureMaxAge && d >= -signatureMaxAge
}
