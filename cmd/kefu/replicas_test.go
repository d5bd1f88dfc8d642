package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/adapters/discord/discordtest"
	"github.com/kefu-dev/kefu/adapters/slack/slacktest"
	"github.com/kefu-dev/kefu/adapters/telegram"
	"github.com/kefu-dev/kefu/adapters/telegram/telegramtest"
	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

const replicaWebhookSecret = "tg-webhook-secret_123"

// TestSeveralReplicas runs three `kefu serve` processes on one PostgreSQL database behind a
// round-robin reverse proxy on loopback, configured as the README's "Several replicas" section says:
// Telegram in webhook mode with a secret, Slack over HTTP, Discord's gateway behind a lease, the proxy
// trusted for the client address.
// Telegram posts each update twice, to two replicas (as it does when an answer is slow): a request
// without the secret is refused, the customer's journey to a ticket gets every reply exactly once, in
// order. The ticket's SLA warning and breach reach Slack once each although three processes scan. A
// console session made through the proxy is valid on every replica; one replica holds the Discord
// gateway. It needs PostgreSQL (skipped
// without it, failing under KEFU_CI_REQUIRE=postgres).
func TestSeveralReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts kefu processes")
	}
	dsn, _ := storetest.PostgresSchemaDSN(t) // skips without KEFU_TEST_POSTGRES_DSN
	key := storage.GenerateKey()
	t.Setenv(storage.EnvEncryptionKey, key)
	tg := telegramtest.NewServer(t)
	sl := slacktest.NewServer(t)
	dc := discordtest.NewServer(t)

	// The load balancer's address goes into the config (Telegram's webhook URL): reserve it first.
	lb := httptest.NewUnstartedServer(nil)
	t.Cleanup(lb.Close)
	lbURL := "http://" + lb.Listener.Addr().String()

	cfgPath := filepath.Join(t.TempDir(), "kefu.yaml")
	cfg := `timezone: Asia/Shanghai
agents:
  - {id: "cli:alice", name: Alice}
  - {id: "slack:UAGENT", name: Agent}
outbox: {poll_interval: 20ms}
security: {trusted_proxies: [127.0.0.1]}
telegram:
  api_url: ` + tg.URL + `
  webhook_url: ` + lbURL + `/telegram/webhook
  per_chat_interval: 50ms
discord: {api_url: ` + dc.URL + `, gateway_url: ` + dc.GatewayURL() + `}
sla:
  calendar: {hours: {mon-sun: ["00:00-24:00"]}}
  priorities:
    P0: {clock: 24x7, first_response: 4s, resolution: {within: 1h, warn_before: 10m}}
    P1: {clock: 24x7, first_response: 4s, resolution: {within: 1h, warn_before: 10m}}
    P2: {clock: 24x7, first_response: 4s, resolution: {within: 1h, warn_before: 10m}}
  warn_before: 50%
  repeat_every: 1h
  escalation:
    - {name: agent, after: 0s, notify: [assignee, supervisors]}
  customer_update: {every: 0s}
  scan_interval: 100ms
slack:
  api_url: ` + sl.URL + `/api/
  default_channel: CTEAM
  supervisors_channel: CSUP
  agents: [UAGENT]
  supervisors: [USUP]
`
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	envs := []string{"KEFU_DATABASE_URL=" + dsn, storage.EnvEncryptionKey + "=" + key,
		"KEFU_TELEGRAM_TOKEN=" + telegramtest.Token, "KEFU_TELEGRAM_WEBHOOK_SECRET=" + replicaWebhookSecret,
		"KEFU_SLACK_BOT_TOKEN=" + slacktest.BotToken, "KEFU_SLACK_SIGNING_SECRET=" + slaSigningSecret,
		"KEFU_DISCORD_TOKEN=" + discordtest.Token}
	// All three start at once (the migrations are applied once, under PostgreSQL's advisory lock).
	var procs []*kefuProc
	for range 3 {
		procs = append(procs, launchKefu(t, []string{"serve", "--config", cfgPath}, envs...))
	}
	var backends []*url.URL
	for _, p := range procs {
		p.waitReady()
		u, _ := url.Parse(p.url)
		backends = append(backends, u)
	}
	var next atomic.Int64
	hits := make([]atomic.Int64, len(backends))
	lb.Config.Handler = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		i := int(next.Add(1)-1) % len(backends)
		hits[i].Add(1)
		r.SetURL(backends[i])
		r.SetXForwarded()
	}}
	lb.Start()

	db := openTestDB(t, dsn)
	s := &journeyServer{e2eServer: &e2eServer{t: t, url: lbURL, dbURL: dsn}, db: db}
	env := func(k string) string {
		switch k {
		case "KEFU_DATABASE_URL":
			return dsn
		case "KEFU_SLACK_BOT_TOKEN":
			return slacktest.BotToken
		case "KEFU_SLACK_SIGNING_SECRET":
			return slaSigningSecret
		case storage.EnvEncryptionKey:
			return key
		}
		return ""
	}

	// Telegram: every replica registered the webhook with the secret; a post without it is refused.
	waitWithin(t, 10*time.Second, "setWebhook from every replica", func() bool { return len(tg.Calls("setWebhook")) >= 3 })
	for _, c := range tg.Calls("setWebhook") {
		if c.Params.Get("url") != lbURL+"/telegram/webhook" || c.Params.Get("secret_token") != replicaWebhookSecret {
			t.Fatalf("setWebhook %v", c.Params)
		}
	}
	for _, secret := range []string{"", "wrong"} {
		req, _ := http.NewRequest("POST", lbURL+"/telegram/webhook", strings.NewReader(`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"hi"}}`))
		if secret != "" {
			req.Header.Set(telegram.SecretHeader, secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("webhook post with secret %q: %d, want 401", secret, resp.StatusCode)
		}
	}

	c := &tgHookCustomer{t: t, f: tg, s: s, url: lbURL + "/telegram/webhook", chat: 7001, lang: "zh-CN"}
	tgHas(t, c.say("/start"), "云朵家电")
	r := c.say("保修期内的冰箱坏了，保修怎么申请？")
	tgHas(t, r, "保修")
	c.press("没解决")
	r = c.press("售后退换")
	for _, step := range []string{"冰箱不制冷了，已经三天，食物都坏了，希望上门维修", "202611200004567", "!一般"} {
		if strings.Contains(r[len(r)-1].Markup, "对，提交") {
			break
		}
		if label, ok := strings.CutPrefix(step, "!"); ok {
			r = c.press(label)
		} else {
			r = c.say(step)
		}
	}
	r = c.press("对，提交")
	no := ticketNo.FindString(r[len(r)-1].Text)
	if no == "" {
		t.Fatalf("no ticket number in\n%s", tgTexts(r))
	}
	ticketCLI(t, cfgPath, env, "assign", "--as", "alice", no, "slack:UAGENT")

	// Exactly once: every reply kefu queued reached the chat once, in order, though each update came twice.
	chat := strconv.FormatInt(c.chat, 10)
	var got []string
	for _, m := range c.sent() {
		got = append(got, m.Text)
	}
	if diff := cmp.Diff(s.outboxTexts(t, bot.ChannelTelegram, chat), got); diff != "" {
		t.Errorf("sendMessage texts differ from the outbox (-outbox +sent):\n%s", diff)
	}
	if n := len(got); n < 6 {
		t.Errorf("only %d replies in the journey", n)
	}

	// SLA: one warning and one breach notice per target, with three processes scanning.
	want := map[string]int{"warn 0 UAGENT": 1, "warn 0 CTEAM": 1, "breach 1 UAGENT": 1, "breach 1 CSUP": 1, "thread ping": 1}
	waitWithin(t, 15*time.Second, "the SLA warning and breach", func() bool {
		got := slaPosts(sl, no)
		for k, n := range want {
			if got[k] < n {
				return false
			}
		}
		return true
	})
	time.Sleep(time.Second) // every process scans ten more times: nothing may come twice
	if diff := diffCounts(want, slaPosts(sl, no)); diff != "" {
		t.Errorf("SLA posts for %s (want → got):\n%s", no, diff)
	}

	// Discord: one replica holds the gateway (the lease); the others wait.
	if g := dc.Gateway(); g.Connections != 1 || g.Identifies != 1 || !g.Connected {
		t.Errorf("Discord gateway with three replicas: %d connections, %d identifies, connected %v; want one", g.Connections, g.Identifies, g.Connected)
	}

	// Console: a session made through the load balancer is valid on every replica.
	t.Setenv("KEFU_DATABASE_URL", dsn) // kefu user reads the environment
	if err := runUser(context.Background(), []string{"add", "boss", "--role", "supervisor", "--password-stdin"},
		strings.NewReader("replica-pass-2026\n"), io.Discard, env); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(lbURL + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf token on the sign-in page:\n%.300s", page)
	}
	resp, err = hc.PostForm(lbURL+"/console/login", url.Values{"csrf": {string(m[1])}, "name": {"boss"}, "password": {"replica-pass-2026"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/" {
		t.Fatalf("sign-in through the load balancer: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, p := range procs {
		resp, err := hc.Get(p.url + "/console/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("console session on replica %s: %d → %q", p.url, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	for i := range hits {
		if hits[i].Load() == 0 {
			t.Errorf("replica %d got no request through the load balancer", i)
		}
	}
	t.Logf("requests per replica through the load balancer: %d %d %d; %d Telegram replies; SLA posts %v",
		hits[0].Load(), hits[1].Load(), hits[2].Load(), len(got), slaPosts(sl, no))
}

// tgHookCustomer is a Telegram user whose updates reach kefu as Telegram's webhook posts them, each
// one twice (to two replicas behind the round-robin proxy), with the secret header.
type tgHookCustomer struct {
	t    testing.TB
	f    *telegramtest.Server
	s    *journeyServer
	url  string
	chat int64
	lang string
	seen int
	last []telegramtest.Message
	n    int
}

func (c *tgHookCustomer) post(update map[string]any) {
	c.t.Helper()
	c.n++
	update["update_id"] = 500000 + c.n
	body, _ := json.Marshal(update)
	chat := strconv.FormatInt(c.chat, 10)
	queued := -1
	for range 2 {
		deadline := time.Now().Add(10 * time.Second)
		for {
			req, _ := http.NewRequest("POST", c.url, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(telegram.SecretHeader, replicaWebhookSecret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				c.t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			// Telegram repeats an update answered 5xx (a replica still connecting answers 503).
			if resp.StatusCode < 500 || time.Now().After(deadline) {
				c.t.Fatalf("webhook post: %d", resp.StatusCode)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// 200 means stored and handled: the repeat (on another replica) must queue nothing more.
		n := len(c.s.outboxTexts(c.t, bot.ChannelTelegram, chat))
		if queued >= 0 && n != queued {
			c.t.Fatalf("update %d posted again: %d replies queued, then %d", update["update_id"], queued, n)
		}
		queued = n
	}
}

func (c *tgHookCustomer) user() map[string]any {
	return map[string]any{"id": c.chat, "is_bot": false, "first_name": "张三", "language_code": c.lang}
}

func (c *tgHookCustomer) sent() []telegramtest.Message {
	var mine []telegramtest.Message
	for _, m := range c.f.Sent() {
		if m.ChatID == c.chat {
			mine = append(mine, m)
		}
	}
	return mine
}

// settle waits until the chat's outbox is sent and returns the bot's new messages.
func (c *tgHookCustomer) settle() []telegramtest.Message {
	c.t.Helper()
	chat := strconv.FormatInt(c.chat, 10)
	waitFor(c.t, "outbox drained for chat "+chat, func() bool {
		return c.s.outboxDrained(c.t, bot.ChannelTelegram, chat) && len(c.sent()) >= len(c.s.outboxTexts(c.t, bot.ChannelTelegram, chat))
	})
	mine := c.sent()
	out := mine[c.seen:]
	c.seen, c.last = len(mine), out
	if len(out) == 0 {
		c.t.Fatalf("chat %d: no reply", c.chat)
	}
	return out
}

func (c *tgHookCustomer) say(text string) []telegramtest.Message {
	c.t.Helper()
	c.post(map[string]any{"message": map[string]any{"message_id": 9000 + c.n, "date": time.Now().Unix(), "text": text,
		"from": c.user(), "chat": map[string]any{"id": c.chat, "type": "private", "first_name": "张三"}}})
	return c.settle()
}

func (c *tgHookCustomer) press(label string) []telegramtest.Message {
	c.t.Helper()
	msg, data := tgButtonOf(c.t, c.last, label)
	c.post(map[string]any{"callback_query": map[string]any{"id": fmt.Sprintf("cb-%d-%d", c.chat, c.n), "chat_instance": "ci", "data": data,
		"from": c.user(), "message": map[string]any{"message_id": msg.ID, "date": time.Now().Unix(), "text": "…",
			"chat": map[string]any{"id": c.chat, "type": "private"},
			"from": map[string]any{"id": telegramtest.BotID, "is_bot": true, "first_name": "Kefu"}}}})
	return c.settle()
}
