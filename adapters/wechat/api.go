package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/adapters/internal/textsplit"
	"github.com/kefu-dev/kefu/bot"
)

// Error is an errcode answer of the WeChat API.
type Error struct {
	Code int
	Msg  string
	Op   string
}

func (e *Error) Error() string { return fmt.Sprintf("wechat: %s: errcode %d: %s", e.Op, e.Code, e.Msg) }

// Errcodes the adapter acts on.
const (
	codeInvalidCredential = 40001 // access_token invalid (or the secret changed)
	codeInvalidOpenID     = 40003
	codeInvalidToken      = 40014
	codeTokenExpired      = 42001
	codeRequireSubscribe  = 43004
	codeBlacklisted       = 43019
	codeEmptyContent      = 44004
	codeTooLong           = 45002
	codeDailyQuota        = 45009
	codeMinuteQuota       = 45011
	codeOutOfTime         = 45015 // the 48-hour window is over
	codeOutOfCount        = 45047 // too many messages without an answer from the follower
)

// tokenLeaseTTL bounds one token fetch; a process that dies holding the lease blocks the others this long.
const tokenLeaseTTL = 30 * time.Second

func (a *Adapter) quotaKey(openID string) string {
	if a.opt.Hash != nil {
		openID = a.opt.Hash(openID)
	}
	return "wechat:quota:" + a.opt.AppID + ":" + openID
}

func (a *Adapter) tokenKey() string { return "wechat:token:" + a.opt.AppID }
func (a *Adapter) seenKey(openID string) string {
	if a.opt.Hash != nil {
		openID = a.opt.Hash(openID)
	}
	return "wechat:seen:" + a.opt.AppID + ":" + openID
}

// token returns a valid access token other than bad (the one the API just refused). Within one process
// calls are serialized; across processes the State lease makes one of them fetch while the others
// wait for the token it stores.
func (a *Adapter) token(ctx context.Context, bad string) (string, error) {
	a.tokMu.Lock()
	defer a.tokMu.Unlock()
	if a.tok != "" && a.tok != bad && a.opt.Now().Before(a.tokExp) {
		return a.tok, nil
	}
	stored := func() (bool, error) {
		v, ok, err := a.opt.State.GetKV(ctx, a.tokenKey())
		if err != nil || !ok {
			return false, err
		}
		tok, ms, _ := strings.Cut(v, " ")
		exp, _ := strconv.ParseInt(ms, 10, 64)
		if tok == "" || tok == bad || !a.opt.Now().Before(time.UnixMilli(exp)) {
			return false, nil
		}
		a.tok, a.tokExp = tok, time.UnixMilli(exp)
		return true, nil
	}
	deadline := time.Now().Add(tokenLeaseTTL + 5*time.Second)
	for {
		if ok, err := stored(); err != nil || ok {
			return a.tok, err
		}
		got, err := a.opt.State.Lease(ctx, "wechat-token:"+a.opt.AppID, a.holder, tokenLeaseTTL)
		if err != nil {
			return "", fmt.Errorf("wechat: token lease: %w", err)
		}
		if got {
			// Another process may have stored a token between the read and the lease.
			if ok, err := stored(); err != nil || ok {
				return a.tok, err
			}
			tok, exp, err := a.fetchToken(ctx)
			if err == nil {
				err = a.opt.State.SetKV(ctx, a.tokenKey(), tok+" "+strconv.FormatInt(exp.UnixMilli(), 10))
			}
			// Release the lease (a lease that runs out at once) so a later refresh need not wait.
			if _, lerr := a.opt.State.Lease(context.WithoutCancel(ctx), "wechat-token:"+a.opt.AppID, a.holder, time.Millisecond); lerr != nil {
				a.log.WarnContext(ctx, "token lease not released", "err", lerr)
			}
			if err != nil {
				return "", err
			}
			a.tok, a.tokExp = tok, exp
			return tok, nil
		}
		if time.Now().After(deadline) {
			return "", errors.New("wechat: token: another process holds the refresh lease and stored no token")
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// fetchToken calls GET /cgi-bin/token. The token is used until 5 minutes before WeChat's expiry.
func (a *Adapter) fetchToken(ctx context.Context) (string, time.Time, error) {
	q := url.Values{"grant_type": {"client_credential"}, "appid": {a.opt.AppID}, "secret": {a.opt.AppSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.api+"/cgi-bin/token?"+q.Encode(), nil)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("wechat: token: %w", err)
	}
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		ErrCode     int    `json:"errcode"`
		ErrMsg      string `json:"errmsg"`
	}
	if err := a.do(req, &out); err != nil {
		return "", time.Time{}, fmt.Errorf("wechat: token: %w", err)
	}
	if out.ErrCode != 0 || out.AccessToken == "" {
		return "", time.Time{}, &Error{Code: out.ErrCode, Msg: out.ErrMsg, Op: "token"}
	}
	life := time.Duration(out.ExpiresIn)*time.Second - 5*time.Minute
	if life < time.Minute {
		life = time.Minute
	}
	a.log.InfoContext(ctx, "access token fetched", "expires_in", out.ExpiresIn)
	return out.AccessToken, a.opt.Now().Add(life), nil
}

// do runs req and decodes a JSON answer; the secret and token never appear in the error.
func (a *Adapter) do(req *http.Request, out any) error {
	resp, err := a.opt.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL carries the secret or the token
		}
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: read: %w", req.URL.Path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", req.URL.Path, resp.StatusCode)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: bad JSON: %w", req.URL.Path, err)
	}
	return nil
}

// customMessage is the body of /cgi-bin/message/custom/send: text, or a menu message (msgmenu) when
// the reply has buttons. A tapped menu item comes back as a text message carrying bizmsgmenuid, which
// the callback turns into a button event with that payload.
type customMessage struct {
	ToUser  string      `json:"touser"`
	MsgType string      `json:"msgtype"`
	Text    *customText `json:"text,omitempty"`
	MsgMenu *msgMenu    `json:"msgmenu,omitempty"`
}

type customText struct {
	Content string `json:"content"`
}

type msgMenu struct {
	HeadContent string     `json:"head_content"`
	List        []menuItem `json:"list"`
	TailContent string     `json:"tail_content"`
}

type menuItem struct {
	ID      string `json:"id"`
	Content string `json:"content"`
}

// TextLimit is the most UTF-8 bytes of one customer-service text (text.content, and here also
// msgmenu.head_content); longer content is refused with 45002 "content size out of limit". The
// official page does not state the number; 2048 bytes is what the platform enforces, as measured and
// reported in the WeChat developer community.
const TextLimit = 2048

// buildMessages is r as customer-service messages: a text longer than TextLimit goes as several
// texts, the last part carrying the buttons (a msgmenu) if there are any.
func buildMessages(r bot.Reply) []customMessage {
	parts := textsplit.Split(r.Text, TextLimit)
	if len(parts) == 0 {
		parts = []string{r.Text} // empty: the platform answers 44004, a permanent error
	}
	out := make([]customMessage, 0, len(parts))
	for i, p := range parts {
		m := customMessage{ToUser: r.ChatID}
		if i < len(parts)-1 || len(r.Buttons) == 0 {
			m.MsgType, m.Text = "text", &customText{Content: p}
			out = append(out, m)
			continue
		}
		m.MsgType = "msgmenu"
		m.MsgMenu = &msgMenu{HeadContent: p}
		for _, b := range r.Buttons {
			m.MsgMenu.List = append(m.MsgMenu.List, menuItem{ID: b.Payload, Content: b.Label})
		}
		out = append(out, m)
	}
	return out
}

func (a *Adapter) partsKey(outboxID int64) string {
	return "wechat:parts:" + a.opt.AppID + ":" + strconv.FormatInt(outboxID, 10)
}

// Send delivers r with the customer-service message API, in several messages when the text is longer
// than TextLimit: the parts already accepted are recorded (State), so a retry after a failure sends
// only the rest. The API gives no message id; the returned id is derived from the outbox id. A
// follower whose window closed gets no call: the error is a *bot.PermanentError wrapping
// ErrWindowClosed, as is the platform's own 45015. Nor does a reply whose messages (the parts not
// yet sent) no longer fit in the follower's quota (ReplyQuota since their last message, counted
// while the window's start is known): a *bot.PermanentError wrapping ErrQuotaUsed, as is 45047.
func (a *Adapter) Send(ctx context.Context, r bot.Reply) (string, error) {
	if r.ChatID == "" {
		return "", &bot.PermanentError{Err: errors.New("wechat: send: no openid")}
	}
	last, seen, err := a.LastSeen(ctx, r.ChatID)
	if err != nil {
		return "", err
	}
	if seen && a.opt.Now().Sub(last) > Window {
		return "", &bot.PermanentError{Err: fmt.Errorf("%w: last message from the follower at %s", ErrWindowClosed, last.UTC().Format(time.RFC3339))}
	}
	msgs := buildMessages(r)
	done := 0
	if len(msgs) > 1 && r.OutboxID != 0 {
		if v, ok, err := a.opt.State.GetKV(ctx, a.partsKey(r.OutboxID)); err != nil {
			return "", fmt.Errorf("wechat: send: parts sent: %w", err)
		} else if n, perr := strconv.Atoi(v); ok && perr == nil && n > 0 && n < len(msgs) {
			done = n
		}
	}
	if seen {
		if err := a.quota.Check(ctx, a.quotaKey(r.ChatID), last, len(msgs)-done); errors.Is(err, ErrQuotaUsed) {
			return "", &bot.PermanentError{Err: fmt.Errorf("wechat: send: %w", err)}
		} else if err != nil {
			return "", fmt.Errorf("wechat: send: %w", err)
		}
	}
	for i := done; i < len(msgs); i++ {
		if err := a.sendOne(ctx, msgs[i]); err != nil {
			if seen && errors.Is(err, ErrQuotaUsed) {
				// The platform counted more than kefu did (another tool sent, or a count was lost).
				if qerr := a.quota.Exhaust(ctx, a.quotaKey(r.ChatID), last); qerr != nil {
					a.log.WarnContext(ctx, "used-up reply quota not recorded", "err", qerr)
				}
			}
			return "", err
		}
		if seen {
			if err := a.quota.Add(ctx, a.quotaKey(r.ChatID), last, 1); err != nil {
				a.log.WarnContext(ctx, "reply not counted; the platform refuses what passes its quota", "err", err)
			}
		}
		if len(msgs) > 1 && r.OutboxID != 0 && i < len(msgs)-1 {
			if err := a.opt.State.SetKV(ctx, a.partsKey(r.OutboxID), strconv.Itoa(i+1)); err != nil {
				a.log.WarnContext(ctx, "parts sent not recorded; a retry may repeat them", "err", err)
			}
		}
	}
	return "outbox-" + strconv.FormatInt(r.OutboxID, 10), nil
}

// sendOne posts one customer-service message, refreshing a refused access token once.
func (a *Adapter) sendOne(ctx context.Context, m customMessage) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("wechat: send: %w", err)
	}
	bad := ""
	for attempt := 0; ; attempt++ {
		tok, err := a.token(ctx, bad)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost,
			a.api+"/cgi-bin/message/custom/send?access_token="+url.QueryEscape(tok), bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("wechat: send: %w", err)
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		var out struct {
			ErrCode int    `json:"errcode"`
			ErrMsg  string `json:"errmsg"`
		}
		if err := a.do(req, &out); err != nil {
			return fmt.Errorf("wechat: send: %w", err)
		}
		apiErr := &Error{Code: out.ErrCode, Msg: out.ErrMsg, Op: "send"}
		switch out.ErrCode {
		case 0:
			return nil
		case codeInvalidCredential, codeInvalidToken, codeTokenExpired:
			if attempt == 0 {
				a.log.InfoContext(ctx, "access token refused; refreshing", "errcode", out.ErrCode)
				bad = tok
				continue
			}
			return apiErr
		case codeOutOfTime:
			return &bot.PermanentError{Err: fmt.Errorf("%w: %w", ErrWindowClosed, apiErr)}
		case codeOutOfCount:
			return &bot.PermanentError{Err: fmt.Errorf("%w: %w", ErrQuotaUsed, apiErr)}
		case codeInvalidOpenID, codeRequireSubscribe, codeBlacklisted, codeEmptyContent, codeTooLong:
			return &bot.PermanentError{Err: apiErr}
		case codeMinuteQuota:
			return &bot.RateLimitedError{Wait: time.Minute}
		case codeDailyQuota:
			return &bot.RateLimitedError{Wait: time.Hour}
		default:
			return apiErr
		}
	}
}

// LastSeen returns when the follower last wrote, clicked the menu or followed (the start of their
// reply window), as recorded by any process.
func (a *Adapter) LastSeen(ctx context.Context, openID string) (time.Time, bool, error) {
	v, ok, err := a.opt.State.GetKV(ctx, a.seenKey(openID))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("wechat: last seen: %w", err)
	}
	ms, perr := strconv.ParseInt(v, 10, 64)
	if !ok || perr != nil {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(ms), true, nil
}

// WindowOpen reports whether a reply to openID can still be sent, and until when (for the agent's card).
func (a *Adapter) WindowOpen(ctx context.Context, openID string) (bool, time.Time, error) {
	last, ok, err := a.LastSeen(ctx, openID)
	if err != nil || !ok {
		return false, time.Time{}, err
	}
	until := last.Add(Window)
	return a.opt.Now().Before(until), until, nil
}

// markSeen records that the follower interacted at at: their window starts again, and so does the
// count of messages that may follow (unless a later interaction is already recorded).
func (a *Adapter) markSeen(ctx context.Context, openID string, at time.Time) {
	last, ok, err := a.LastSeen(ctx, openID)
	if err == nil && ok && at.Before(last) {
		return
	}
	if err != nil || !ok || at.After(last) {
		if err := a.opt.State.SetKV(ctx, a.seenKey(openID), strconv.FormatInt(at.UnixMilli(), 10)); err != nil {
			a.log.WarnContext(ctx, "reply window not recorded", "err", err)
			return
		}
	}
	if err := a.quota.Reset(ctx, a.quotaKey(openID), at); err != nil {
		a.log.WarnContext(ctx, "reply quota not reset", "err", err)
	}
}
