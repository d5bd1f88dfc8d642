package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"golang.org/x/time/rate"

	"github.com/kefu-dev/kefu/bot"
)

const (
	maxMessageUnits  = 4096 // sendMessage text limit, in UTF-16 code units
	maxCallbackBytes = 64   // callback_data limit
)

// ErrPayloadTooLong: a button payload does not fit Telegram's 64-byte callback_data. flows makes
// short payloads; a longer one is a bug, so the reply fails loudly (as a *bot.PermanentError).
var ErrPayloadTooLong = errors.New("telegram: button payload longer than 64 bytes")

// Send delivers r as one message or, past 4096 characters, as several in order; the buttons go under
// the last one, whose id is returned (Edit takes it to remove them). It waits for the per-chat and
// global rate limits (honouring ctx). Telegram's 429 becomes *bot.RateLimitedError with retry_after;
// a blocked bot, a missing chat or a request Telegram rejects as malformed becomes *bot.PermanentError.
//
// If a long reply fails part way, parts already sent are remembered by OutboxID and not sent again
// when the dispatcher retries (in this process).
func (a *Adapter) Send(ctx context.Context, r bot.Reply) (string, error) {
	chatID, err := strconv.ParseInt(r.ChatID, 10, 64)
	if err != nil {
		return "", &bot.PermanentError{Err: fmt.Errorf("telegram: send: bad chat id %q: %w", r.ChatID, bot.ErrBadInput)}
	}
	markup, err := keyboard(r.Buttons)
	if err != nil {
		return "", &bot.PermanentError{Err: fmt.Errorf("telegram: send to chat %s: %w", r.ChatID, err)}
	}
	parts := splitText(r.Text, maxMessageUnits)
	if len(parts) == 0 {
		return "", &bot.PermanentError{Err: fmt.Errorf("telegram: send to chat %s: empty text: %w", r.ChatID, bot.ErrBadInput)}
	}
	start, last := 0, ""
	if len(parts) > 1 && r.OutboxID != 0 {
		start, last = a.progress.get(r.OutboxID)
	}
	for i := start; i < len(parts); i++ {
		msg := tgbotapi.NewMessage(chatID, parts[i])
		msg.DisableWebPagePreview = false
		if i == len(parts)-1 && markup != nil {
			msg.ReplyMarkup = *markup
		}
		id, err := a.sendOne(ctx, chatID, msg)
		if err != nil {
			return "", fmt.Errorf("telegram: send to chat %s: %w", r.ChatID, err)
		}
		last = id
		if len(parts) > 1 && r.OutboxID != 0 {
			a.progress.set(r.OutboxID, i+1, id)
		}
	}
	if len(parts) > 1 && r.OutboxID != 0 {
		a.progress.done(r.OutboxID)
	}
	return last, nil
}

// sendOne waits for the rate limits, then sends one message.
func (a *Adapter) sendOne(ctx context.Context, chatID int64, c tgbotapi.Chattable) (string, error) {
	release, err := a.limits.acquire(ctx, chatID)
	if err != nil {
		return "", err
	}
	m, err := a.call(ctx).Send(c)
	release()
	if err != nil {
		return "", classify(redact(err, a.opt.Token))
	}
	return strconv.Itoa(m.MessageID), nil
}

// Edit replaces the text and keyboard of a message kefu sent (msgID as Send returned it). With an
// empty r.Text only the keyboard changes; no buttons removes it. "message is not modified" is success.
func (a *Adapter) Edit(ctx context.Context, chatID, msgID string, r bot.Reply) error {
	chat, err1 := strconv.ParseInt(chatID, 10, 64)
	mid, err2 := strconv.Atoi(msgID)
	if err1 != nil || err2 != nil {
		return &bot.PermanentError{Err: fmt.Errorf("telegram: edit %s/%s: %w", chatID, msgID, bot.ErrBadInput)}
	}
	markup, err := keyboard(r.Buttons)
	if err != nil {
		return &bot.PermanentError{Err: fmt.Errorf("telegram: edit %s/%s: %w", chatID, msgID, err)}
	}
	if markup == nil {
		markup = &tgbotapi.InlineKeyboardMarkup{InlineKeyboard: [][]tgbotapi.InlineKeyboardButton{}}
	}
	var c tgbotapi.Chattable
	if r.Text != "" {
		parts := splitText(r.Text, maxMessageUnits)
		e := tgbotapi.NewEditMessageText(chat, mid, parts[0])
		e.ReplyMarkup = markup
		c = e
	} else {
		c = tgbotapi.NewEditMessageReplyMarkup(chat, mid, *markup)
	}
	release, err := a.limits.acquire(ctx, chat)
	if err != nil {
		return fmt.Errorf("telegram: edit %s/%s: %w", chatID, msgID, err)
	}
	_, err = a.call(ctx).Request(c)
	release()
	if err != nil {
		var tgErr *tgbotapi.Error
		if errors.As(err, &tgErr) && strings.Contains(tgErr.Message, "message is not modified") {
			return nil
		}
		return fmt.Errorf("telegram: edit %s/%s: %w", chatID, msgID, classify(redact(err, a.opt.Token)))
	}
	return nil
}

// classify maps Bot API errors onto the bot contract: 429 -> *bot.RateLimitedError; 403 (bot blocked,
// user deactivated) and 400 (chat not found, malformed request) -> *bot.PermanentError. Everything else
// (network, 5xx, 401) stays a plain error the dispatcher retries.
func classify(err error) error {
	var tgErr *tgbotapi.Error
	if !errors.As(err, &tgErr) {
		return err
	}
	switch {
	case tgErr.Code == 429 || tgErr.RetryAfter > 0:
		wait := time.Duration(tgErr.RetryAfter) * time.Second
		if wait <= 0 {
			wait = time.Second
		}
		return &bot.RateLimitedError{Wait: wait}
	case tgErr.Code == 403, tgErr.Code == 400:
		return &bot.PermanentError{Err: fmt.Errorf("bot api %d: %w", tgErr.Code, err)}
	}
	return fmt.Errorf("bot api %d: %w", tgErr.Code, err)
}

// keyboard builds the inline keyboard: short labels (ratings 1–5, yes/no) share a row, up to five;
// longer labels get a row each.
func keyboard(buttons []bot.Button) (*tgbotapi.InlineKeyboardMarkup, error) {
	if len(buttons) == 0 {
		return nil, nil
	}
	short := true
	for _, b := range buttons {
		if len(b.Payload) == 0 {
			return nil, fmt.Errorf("button %q has no payload: %w", b.Label, bot.ErrBadInput)
		}
		if len(b.Payload) > maxCallbackBytes {
			return nil, fmt.Errorf("%w: %q", ErrPayloadTooLong, b.Payload)
		}
		if utf8.RuneCountInString(b.Label) > 4 {
			short = false
		}
	}
	perRow := 1
	if short {
		perRow = 5
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	for i := 0; i < len(buttons); i += perRow {
		var row []tgbotapi.InlineKeyboardButton
		for _, b := range buttons[i:min(i+perRow, len(buttons))] {
			label := b.Label
			if strings.TrimSpace(label) == "" {
				label = b.Payload
			}
			row = append(row, tgbotapi.NewInlineKeyboardButtonData(label, b.Payload))
		}
		rows = append(rows, row)
	}
	m := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return &m, nil
}

// splitText cuts s into parts of at most max UTF-16 code units (how Telegram counts), preferring a
// line break, then a space, in the last quarter of a part; it never splits a rune.
func splitText(s string, max int) []string {
	s = strings.TrimSpace(s)
	var parts []string
	for s != "" {
		units, cut := 0, len(s)
		for i, r := range s {
			n := utf16.RuneLen(r)
			if n < 0 {
				n = 1
			}
			if units+n > max {
				cut = i
				break
			}
			units += n
		}
		if cut < len(s) {
			floor := cut * 3 / 4
			if i := strings.LastIndexByte(s[:cut], '\n'); i > floor {
				cut = i + 1
			} else if i := strings.LastIndexByte(s[:cut], ' '); i > floor {
				cut = i + 1
			}
		}
		if p := strings.TrimSpace(s[:cut]); p != "" {
			parts = append(parts, p)
		}
		s = strings.TrimSpace(s[cut:])
	}
	return parts
}

// limiter keeps sends within Telegram's flood limits: about one message per second per chat and
// about 30 per second overall. Waiting honours ctx.
//
// Telegram counts messages when they arrive, which kefu cannot see; what it can see is that a message
// arrived before its response came back. So both limits count from completed sends, and sends still
// in flight count as happening now:
//   - per chat, a send starts no earlier than interval after the previous send to that chat returned
//     (sends to one chat are serialized);
//   - overall, a send starts only while fewer than cap sends are in flight or returned within the last
//     second; golang.org/x/time/rate spaces them evenly (no bursts of 30 at once).
//
// That bounds the arrivals strictly, at a price: with a round trip of RTT the sustained rate is about
// cap/(1s+RTT) when many chats are busy.
type limiter struct {
	interval time.Duration
	pace     *rate.Limiter
	cap      int

	mu       sync.Mutex
	chats    map[int64]*chatSlot
	done     []time.Time   // completion times within the last second, oldest first
	inflight int           // sends started and not yet returned
	freed    chan struct{} // closed and replaced when a send returns
}

type chatSlot struct {
	sem   chan struct{} // held from the wait until the send returns
	last  time.Time     // when the last send to this chat returned
	users int           // goroutines holding or waiting for the slot (guarded by limiter.mu)
}

func newLimiter(perChat time.Duration, global float64) *limiter {
	return &limiter{
		interval: perChat,
		pace:     rate.NewLimiter(rate.Limit(global), 1),
		cap:      max(int(global), 1),
		chats:    make(map[int64]*chatSlot),
		freed:    make(chan struct{}),
	}
}

// acquire waits until a message may go to chat. The caller sends, then calls release.
func (l *limiter) acquire(ctx context.Context, chat int64) (release func(), err error) {
	l.mu.Lock()
	c, ok := l.chats[chat]
	if !ok {
		if len(l.chats) >= 4096 {
			now := time.Now()
			for id, old := range l.chats {
				if old.users == 0 && now.Sub(old.last) > l.interval {
					delete(l.chats, id)
				}
			}
		}
		c = &chatSlot{sem: make(chan struct{}, 1)}
		l.chats[chat] = c
	}
	c.users++
	l.mu.Unlock()
	leave := func() {
		l.mu.Lock()
		c.users--
		l.mu.Unlock()
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		leave()
		return nil, fmt.Errorf("rate limit wait: %w", ctx.Err())
	}
	fail := func(err error) (func(), error) {
		<-c.sem
		leave()
		return nil, fmt.Errorf("rate limit wait: %w", err)
	}
	if !c.last.IsZero() {
		if !bot.Sleep(ctx, time.Until(c.last.Add(l.interval))) {
			return fail(ctx.Err())
		}
	}
	if err := l.pace.Wait(ctx); err != nil {
		return fail(err)
	}
	if err := l.enter(ctx); err != nil {
		return fail(err)
	}
	return func() {
		now := time.Now()
		l.mu.Lock()
		l.inflight--
		l.done = append(l.done, now)
		close(l.freed)
		l.freed = make(chan struct{})
		c.last = now
		c.users--
		l.mu.Unlock()
		<-c.sem
	}, nil
}

// enter waits for a place in the one-second window and takes it.
func (l *limiter) enter(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := time.Now()
		i := 0
		for i < len(l.done) && now.Sub(l.done[i]) >= time.Second {
			i++
		}
		l.done = l.done[i:]
		if len(l.done)+l.inflight < l.cap {
			l.inflight++
			l.mu.Unlock()
			return nil
		}
		freed := l.freed
		wait := time.Second // all places are in flight: wait for a release
		if len(l.done) > 0 {
			wait = l.done[0].Add(time.Second).Sub(now)
		}
		l.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-freed:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// progress remembers how many parts of a split reply were sent, by OutboxID, so a retry after a 429
// in the middle does not repeat the first parts. It lives in memory: after a restart a long reply
// that had failed part way may repeat its first parts once.
type progress struct {
	mu sync.Mutex
	m  map[int64]sentParts
}

type sentParts struct {
	n    int
	last string
	at   time.Time
}

func newProgress() *progress { return &progress{m: make(map[int64]sentParts)} }

func (p *progress) get(id int64) (int, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.m[id]
	return s.n, s.last
}

func (p *progress) set(id int64, n int, last string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if len(p.m) >= 1024 {
		for k, v := range p.m {
			if now.Sub(v.at) > time.Hour {
				delete(p.m, k)
			}
		}
	}
	p.m[id] = sentParts{n: n, last: last, at: now}
}

func (p *progress) done(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, id)
}
