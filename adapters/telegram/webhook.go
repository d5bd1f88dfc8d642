package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// SecretHeader carries the webhook secret on every update Telegram posts.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// maxWebhookBody bounds an update body; real updates are a few kilobytes.
const maxWebhookBody = 1 << 20

func checkWebhook(raw, secret string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("bad webhook URL %q", raw)
	}
	if secret == "" {
		return errors.New("a webhook needs a secret (KEFU_TELEGRAM_WEBHOOK_SECRET)")
	}
	if len(secret) > 256 {
		return errors.New("webhook secret longer than 256 characters")
	}
	for _, r := range secret {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return errors.New("webhook secret may only contain A-Z, a-z, 0-9, _ and -")
		}
	}
	return nil
}

// setWebhook registers WebhookURL with the secret. v5.5.1's WebhookConfig predates secret_token
// (Bot API 6.1), so the request is built by hand.
func (a *Adapter) setWebhook(ctx context.Context) error {
	allowed, _ := json.Marshal(allowedUpdates)
	_, err := a.call(ctx).MakeRequest("setWebhook", tgbotapi.Params{
		"url":             a.opt.WebhookURL,
		"secret_token":    a.opt.WebhookSecret,
		"allowed_updates": string(allowed),
	})
	if err != nil {
		return fmt.Errorf("telegram: set webhook: %w", redact(err, a.opt.Token))
	}
	return nil
}

// ServeHTTP is the webhook endpoint (webhook mode only; mount it at WebhookURL's path, e.g.
// /telegram/webhook). A missing or wrong secret gets 401; a body that is not an update gets 400; an
// update that could not be stored gets 500, and Telegram sends it again. Telegram expects 200 for
// everything it should not repeat, including updates kefu ignores.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !a.webhook {
		http.NotFound(w, r)
		return
	}
	got := r.Header.Get(SecretHeader)
	if subtle.ConstantTimeCompare([]byte(got), []byte(a.opt.WebhookSecret)) != 1 {
		a.log.WarnContext(r.Context(), "webhook request with a bad secret", "remote", r.RemoteAddr, "has_secret", got != "")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	u, err := decodeUpdate(body)
	if err != nil {
		a.log.WarnContext(r.Context(), "webhook body is not an update", "err", err)
		http.Error(w, "bad update", http.StatusBadRequest)
		return
	}
	a.sinkMu.RLock()
	sink := a.sink
	a.sinkMu.RUnlock()
	if sink == nil {
		http.Error(w, "not running", http.StatusServiceUnavailable)
		return
	}
	if err := a.handle(r.Context(), sink, u, false); err != nil {
		a.log.ErrorContext(r.Context(), "webhook update not stored; Telegram will retry", "update_id", u.UpdateID, "err", err)
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// RegisterCommands publishes /start /status /lang /help (and /link when described) with setMyCommands
// for each language of Options.CommandDescriptions ("zh-CN" -> language_code "zh", "en" -> "en").
// The zh-CN list is also set without a language code, as the default for every other language.
func (a *Adapter) RegisterCommands(ctx context.Context) error {
	if len(a.opt.CommandDescriptions) == 0 {
		return errors.New("telegram: register commands: no descriptions")
	}
	var errs []error
	for _, lang := range sortedLangs(a.opt.CommandDescriptions) {
		descs := a.opt.CommandDescriptions[lang]
		var cmds []tgbotapi.BotCommand
		for _, c := range Commands {
			d := strings.TrimSpace(descs[c])
			if d == "" {
				continue
			}
			if r := []rune(d); len(r) > 256 {
				d = string(r[:256])
			}
			cmds = append(cmds, tgbotapi.BotCommand{Command: c, Description: d})
		}
		if len(cmds) == 0 {
			continue
		}
		codes := []string{telegramLang(lang)}
		if lang == "zh-CN" {
			codes = append(codes, "")
		}
		for _, code := range codes {
			cfg := tgbotapi.SetMyCommandsConfig{Commands: cmds, LanguageCode: code}
			if _, err := a.call(ctx).Request(cfg); err != nil {
				errs = append(errs, fmt.Errorf("telegram: register commands (%q): %w", code, redact(err, a.opt.Token)))
			}
		}
	}
	return errors.Join(errs...)
}

// telegramLang turns a kefu language into a two-letter ISO 639-1 code as setMyCommands wants it.
func telegramLang(lang string) string {
	l, _, _ := strings.Cut(strings.ToLower(lang), "-")
	return l
}

func sortedLangs(m map[string]map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
