// Package email connects kefu to a support mailbox: inbound over IMAP (github.com/emersion/go-imap/v2;
// IDLE where the server offers it, polling otherwise), outbound over SMTP (github.com/emersion/go-smtp),
// messages read and written with github.com/emersion/go-message.
//
// The adapter only translates. Each new message of the mailbox becomes a bot.Event whose MsgID is
// its Message-ID, so a message fetched twice is stored once. The UID cursor (per UIDVALIDITY) moves
// past a message only after Sink.Deliver returned nil for it, so a crash loses nothing. Auto-replies,
// bounces and list mail (Auto-Submitted, Precedence, multipart/report, null senders …) are skipped and
// never answered, so two robots cannot mail each other forever. The text is the plain part (HTML
// reduced to text otherwise) with the quoted history and signature trimmed; attachments are stored
// through Options.Blobs (up to MaxAttachment each; a bigger one, or any without Blobs, stays a
// reference: IMAP UID and part), before the message is delivered: a file that cannot be stored keeps
// the message unread and undelivered, to be fetched again.
//
// Replies are sent as plain-text mail to the customer with "Re: <their subject>", the ticket number in
// the subject once one is mentioned, In-Reply-To / References to the customer's last message and a
// Message-ID derived from the outbox id (a resend after a crash carries the same id, so mail clients
// show it once). Outbound mail carries Auto-Submitted: auto-replied (RFC 3834): other robots stay quiet.
//
// One conversation per customer address; with Options.Hash and Seal set (storage's key ring) the chat
// id is a keyed hash of the address and the address itself is kept sealed in State, so neither the
// conversations nor the key-value table hold it in clear.
package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/textproto"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/kefu-dev/kefu/adapters/internal/memstate"
	"github.com/kefu-dev/kefu/bot"
)

// Channel is the bot.Channel of e-mail conversations.
const Channel = bot.ChannelEmail

// Security is how a connection is protected.
type Security string

const (
	TLS      Security = "tls"      // implicit TLS (IMAPS 993, SMTPS 465)
	StartTLS Security = "starttls" // upgrade (IMAP 143, submission 587)
	Plain    Security = "plain"    // no TLS: loopback and tests only
)

// State is the shared storage of cursors, thread references and addresses (storage.DB implements it).
type State interface {
	GetKV(ctx context.Context, key string) (string, bool, error)
	SetKV(ctx context.Context, key, value string) error
}

// Blobs keeps copies of customers' files (storage.DB implements it): stored once however often sent.
type Blobs interface {
	PutBlob(ctx context.Context, mime string, data []byte, max int64) (int64, error)
}

// Options configure an Adapter. IMAPAddr, SMTPAddr, Username and From are required.
type Options struct {
	IMAPAddr     string   // host:port
	IMAPSecurity Security // default TLS
	Mailbox      string   // default INBOX
	SMTPAddr     string   // host:port
	SMTPSecurity Security // default StartTLS
	Username     string   // for IMAP and SMTP
	Password     string
	SMTPUsername string // default Username; empty with SMTPNoAuth
	SMTPPassword string // default Password
	SMTPNoAuth   bool   // a relay that takes mail without AUTH (loopback)
	From         string // the support address replies come from
	FromName     string // display name, e.g. the company's

	// PollInterval is the wait between checks when the server lacks IDLE (default 30s); with IDLE
	// new mail is seen at once and the adapter still re-checks every PollInterval (or IdleRefresh,
	// default 10m, if shorter; RFC 2177 allows 29 minutes).
	PollInterval time.Duration
	IdleRefresh  time.Duration
	NoIdle       bool

	// DefaultSubject is the subject of a reply to a customer without one (rendered by the caller).
	DefaultSubject string
	TLSConfig      *tls.Config // for tests with a private CA

	State State // default: in memory
	// Blobs keeps copies of customers' attachments (storage.DB); nil keeps references only.
	Blobs Blobs
	// MaxAttachment caps one stored attachment (bytes; default 10 MiB; a bigger one stays a reference).
	MaxAttachment int64
	// LoopLimit is how many mails one address may send within an hour and still be answered
	// (default 20; negative: no limit): a robot that does not mark its mail cannot loop (loop.go).
	LoopLimit int
	// Hash (keyed hash) and Seal/Open (encryption) protect the customer's address at rest.
	Hash   func(string) string
	Seal   func(string) string
	Open   func(string) (string, error)
	Logger *slog.Logger
	Now    func() time.Time
	// Health, when set, hears how reading the mailbox goes: nil once a session is logged in and
	// following the mailbox, the error when a session fails (a refused login, an unreachable server).
	Health func(err error)
}

// Adapter is the e-mail channel.
type Adapter struct {
	opt     Options
	log     *slog.Logger
	backoff bot.Backoff
	mu      sync.Mutex // serializes thread-state updates
	open    bool       // the current session logged in and selected the mailbox (Run's goroutine only)
}

var _ bot.Adapter = (*Adapter)(nil)

// New checks the options; it does not connect.
func New(o Options) (*Adapter, error) {
	if o.IMAPAddr == "" || o.SMTPAddr == "" || o.Username == "" || o.From == "" {
		return nil, errors.New("email: new: IMAP and SMTP addresses, username and from address are required")
	}
	if _, err := mail.ParseAddress(o.From); err != nil || !strings.Contains(o.From, "@") {
		return nil, fmt.Errorf("email: new: bad from address %q", o.From)
	}
	for _, s := range []*Security{&o.IMAPSecurity, &o.SMTPSecurity} {
		switch *s {
		case "":
		case TLS, StartTLS, Plain:
		default:
			return nil, fmt.Errorf("email: new: security %q: want tls, starttls or plain", *s)
		}
	}
	if o.IMAPSecurity == "" {
		o.IMAPSecurity = TLS
	}
	if o.SMTPSecurity == "" {
		o.SMTPSecurity = StartTLS
	}
	if o.MaxAttachment <= 0 {
		o.MaxAttachment = 10 << 20
	}
	if o.LoopLimit == 0 {
		o.LoopLimit = 20
	}
	if o.Mailbox == "" {
		o.Mailbox = "INBOX"
	}
	if o.SMTPUsername == "" && !o.SMTPNoAuth {
		o.SMTPUsername, o.SMTPPassword = o.Username, o.Password
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 30 * time.Second
	}
	if o.IdleRefresh <= 0 {
		o.IdleRefresh = 10 * time.Minute
	}
	if o.State == nil {
		o.State = memstate.New()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Adapter{opt: o, log: o.Logger.With("adapter", "email"),
		backoff: bot.Backoff{Min: 200 * time.Millisecond, Max: time.Minute, Jitter: 0.2}}, nil
}

func (a *Adapter) health(err error) {
	if a.opt.Health != nil {
		a.opt.Health(err)
	}
}

// Channel reports Channel.
func (a *Adapter) Channel() bot.Channel { return Channel }

// Run follows the mailbox until ctx is done; a lost connection is reopened with backoff.
func (a *Adapter) Run(ctx context.Context, sink bot.Sink) error {
	if sink == nil {
		return errors.New("email: run: nil sink")
	}
	for failures := 0; ; {
		a.open = false
		err := a.session(ctx, sink)
		if ctx.Err() != nil {
			return nil
		}
		if !a.open { // could not get in; a session that was up and ended is only reconnected
			a.health(err)
		}
		failures++
		wait := a.backoff.Delay(failures)
		a.log.WarnContext(ctx, "mailbox session ended; reconnecting", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

func (a *Adapter) dial(ctx context.Context, addr string, sec Security) (net.Conn, error) {
	d := &net.Dialer{Timeout: 30 * time.Second}
	if sec == TLS {
		cfg := a.tlsConfig(addr)
		return (&tls.Dialer{NetDialer: d, Config: cfg}).DialContext(ctx, "tcp", addr)
	}
	return d.DialContext(ctx, "tcp", addr)
}

func (a *Adapter) tlsConfig(addr string) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if a.opt.TLSConfig != nil {
		cfg = a.opt.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	return cfg
}

// session is one IMAP connection: log in, select, then fetch new mail and wait (IDLE or poll) until
// ctx is done or the connection fails.
func (a *Adapter) session(ctx context.Context, sink bot.Sink) error {
	conn, err := a.dial(ctx, a.opt.IMAPAddr, a.opt.IMAPSecurity)
	if err != nil {
		return fmt.Errorf("email: imap dial: %w", err)
	}
	news := make(chan struct{}, 1)
	opts := &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				select {
				case news <- struct{}{}:
				default:
				}
			}
		}}}
	var c *imapclient.Client
	if a.opt.IMAPSecurity == StartTLS {
		opts.TLSConfig = a.tlsConfig(a.opt.IMAPAddr)
		if c, err = imapclient.NewStartTLS(conn, opts); err != nil {
			conn.Close()
			return fmt.Errorf("email: imap starttls: %w", err)
		}
	} else {
		c = imapclient.New(conn, opts)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer func() {
		stop()
		_ = c.Close()
	}()
	if err := c.Login(a.opt.Username, a.opt.Password).Wait(); err != nil {
		return fmt.Errorf("email: imap login: %w", err)
	}
	sel, err := c.Select(a.opt.Mailbox, nil).Wait()
	if err != nil {
		return fmt.Errorf("email: imap select %s: %w", a.opt.Mailbox, err)
	}
	a.open = true
	a.health(nil)
	idle := !a.opt.NoIdle && c.Caps().Has(imap.CapIdle)
	for {
		if err := a.fetchNew(ctx, c, sel, sink); err != nil {
			return err
		}
		if idle {
			// A message that arrived while the last batch was handled may have been announced to
			// nobody: NOOP collects pending EXISTS, and a pending announcement skips the wait.
			if err := c.Noop().Wait(); err != nil {
				return fmt.Errorf("email: imap noop: %w", err)
			}
			select {
			case <-news:
				continue
			default:
			}
			cmd, err := c.Idle()
			if err != nil {
				return fmt.Errorf("email: imap idle: %w", err)
			}
			select {
			case <-news:
			case <-time.After(min(a.opt.IdleRefresh, a.opt.PollInterval)):
				// IDLE announces new mail at once; the periodic re-check only catches a message a
				// server announced between NOOP and IDLE to nobody.
			case <-ctx.Done():
			}
			if err := cmd.Close(); err != nil && ctx.Err() == nil {
				return fmt.Errorf("email: imap idle done: %w", err)
			}
			if err := cmd.Wait(); err != nil && ctx.Err() == nil {
				return fmt.Errorf("email: imap idle: %w", err)
			}
		} else {
			select {
			case <-news:
			case <-time.After(a.opt.PollInterval):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			_ = c.Logout().Wait()
			return nil
		}
	}
}

type cursor struct {
	Validity uint32 `json:"validity"`
	UID      uint32 `json:"uid"`
}

func (a *Adapter) cursorKey() string { return "email:cursor:" + a.opt.Username + ":" + a.opt.Mailbox }

// fetchNew hands every message after the cursor to sink, oldest first. The first run (no cursor, or a
// new UIDVALIDITY) takes the unread messages only, so a mailbox full of old mail is not answered.
func (a *Adapter) fetchNew(ctx context.Context, c *imapclient.Client, sel *imap.SelectData, sink bot.Sink) error {
	var cur cursor
	if v, ok, err := a.opt.State.GetKV(ctx, a.cursorKey()); err != nil {
		return err
	} else if ok {
		_ = json.Unmarshal([]byte(v), &cur)
	}
	crit := &imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}
	fresh := cur.Validity != sel.UIDValidity
	if !fresh {
		crit = &imap.SearchCriteria{UID: []imap.UIDSet{{imap.UIDRange{Start: imap.UID(cur.UID + 1), Stop: 0}}}}
	}
	res, err := c.UIDSearch(crit, nil).Wait()
	if err != nil {
		return fmt.Errorf("email: imap search: %w", err)
	}
	uids := slices.DeleteFunc(res.AllUIDs(), func(u imap.UID) bool { return !fresh && uint32(u) <= cur.UID })
	slices.Sort(uids)
	for _, uid := range uids {
		if err := a.one(ctx, c, sel.UIDValidity, uid, sink); err != nil {
			return err
		}
		cur = cursor{Validity: sel.UIDValidity, UID: uint32(uid)}
		b, _ := json.Marshal(cur)
		if err := a.opt.State.SetKV(ctx, a.cursorKey(), string(b)); err != nil {
			return fmt.Errorf("email: save cursor: %w", err)
		}
	}
	if fresh && len(uids) == 0 && sel.UIDNext > 0 {
		b, _ := json.Marshal(cursor{Validity: sel.UIDValidity, UID: uint32(sel.UIDNext) - 1})
		if err := a.opt.State.SetKV(ctx, a.cursorKey(), string(b)); err != nil {
			return fmt.Errorf("email: save cursor: %w", err)
		}
	}
	return nil
}

// one fetches, parses and delivers one message, then flags it \Seen.
func (a *Adapter) one(ctx context.Context, c *imapclient.Client, validity uint32, uid imap.UID, sink bot.Sink) error {
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return fmt.Errorf("email: imap fetch %d: %w", uid, err)
	}
	if len(msgs) == 0 {
		return nil // expunged meanwhile
	}
	raw := msgs[0].FindBodySection(section)
	log := a.log.With("uid", uid)
	in, err := Parse(raw)
	switch {
	case err != nil:
		log.WarnContext(ctx, "mail skipped: cannot be parsed", "err", err)
	case in.Auto != "":
		log.InfoContext(ctx, "automatic mail not answered", "reason", in.Auto)
	default:
		over, first, err := a.overLoopLimit(ctx, in.From)
		if err != nil {
			return err
		}
		if over {
			if first {
				log.WarnContext(ctx, "mail loop suspected: this sender's mail is not answered for the rest of the hour",
					"sender", a.addrKey(in.From), "limit", a.opt.LoopLimit)
			}
			break
		}
		ev, err := a.event(ctx, in, raw, validity, uid)
		if err != nil {
			return err
		}
		if err := sink.Deliver(ctx, ev); err != nil {
			return fmt.Errorf("email: deliver uid %d: %w", uid, err)
		}
		if err := a.remember(ctx, ev.ChatID, in); err != nil {
			return err
		}
	}
	if err := c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		log.WarnContext(ctx, "could not flag the mail as read", "err", err)
	}
	return nil
}

// Commands kefu answers in any channel ("/link CODE" from a mail merges the customer with a chat).
var Commands = []string{"start", "status", "lang", "help", "link"}

// command returns text's first line when it is one of Commands ("/link ABCD-EFGH" with a signature
// below it), so that neither the subject nor the rest of the mail becomes its argument.
func command(text string) (string, bool) {
	first, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	first = strings.TrimSpace(first)
	name, _, _ := strings.Cut(strings.TrimPrefix(first, "/"), " ")
	if !strings.HasPrefix(first, "/") || !slices.Contains(Commands, strings.ToLower(name)) {
		return "", false
	}
	return first, true
}

var replyPrefix = regexp.MustCompile(`(?i)^\s*((re|fw|fwd|aw|答复|回复|转发)\s*[:：]\s*)+`)

// event turns a parsed mail into an Event. A new thread's subject is part of the question; a reply's
// subject ("Re: …") is not.
func (a *Adapter) event(ctx context.Context, in Inbound, raw []byte, validity uint32, uid imap.UID) (bot.Event, error) {
	chat, err := a.chatFor(ctx, in.From)
	if err != nil {
		return bot.Event{}, err
	}
	ev := bot.Event{Channel: Channel, ChatID: chat, UserID: chat, UserName: in.Name, MsgID: in.MessageID, Kind: bot.KindText, At: in.Date}
	if ev.MsgID == "" {
		ev.MsgID = fingerprint(raw)
	}
	if ev.At.IsZero() || ev.At.After(a.opt.Now().Add(time.Hour)) {
		ev.At = a.opt.Now()
	}
	text := strings.TrimSpace(in.Text)
	subj := strings.TrimSpace(in.Subject)
	if cmd, ok := command(text); ok {
		text = cmd // "/link CODE" and the signature below it: the command alone, not the subject first
	} else if subj != "" && len(in.InReplyTo) == 0 && !replyPrefix.MatchString(subj) && !strings.Contains(text, subj) {
		text = strings.TrimSpace(subj + "\n" + text)
	}
	if cmd, ok := command(text); ok {
		text = cmd // a command in the subject of an otherwise empty mail
	}
	ev.Text = text
	if th, err := a.loadThread(ctx, chat); err == nil && len(th.Buttons) > 0 && len(in.Attachments) == 0 {
		if b, ok := pressed(text, th.Buttons); ok {
			ev.Kind, ev.Payload, ev.Text = bot.KindButton, b.Payload, b.Label
			return ev, nil
		}
	}
	for i, at := range in.Attachments {
		at.FileID = fmt.Sprintf("imap:%s/%d/%d/%s", a.opt.Mailbox, validity, uid, at.FileID)
		if a.opt.Blobs != nil && i < len(in.Files) {
			if data := in.Files[i]; int64(len(data)) > a.opt.MaxAttachment {
				at.TooLarge = true
			} else {
				id, err := a.opt.Blobs.PutBlob(ctx, at.MIME, data, a.opt.MaxAttachment)
				if err != nil {
					return bot.Event{}, fmt.Errorf("email: keep attachment %d of uid %d: %w", i+1, uid, err)
				}
				at.BlobID = id
			}
		}
		ev.Attachments = append(ev.Attachments, at)
	}
	if len(ev.Attachments) > 0 {
		ev.Kind = bot.KindMedia
	}
	return ev, nil
}

// pressed reads an answer to a reply with options: its first line is an option's number ("2",
// "[2]", "２") or its label.
func pressed(text string, buttons []bot.Button) (bot.Button, bool) {
	first, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	first = strings.Trim(strings.TrimSpace(first), "[]【】。.!！")
	first = strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return r - '０' + '0'
		}
		return r
	}, first)
	for i, b := range buttons {
		if first == strconv.Itoa(i+1) || strings.EqualFold(first, strings.TrimSpace(b.Label)) {
			return b, true
		}
	}
	return bot.Button{}, false
}

// chatFor is the conversation key of an address, registering the address (sealed) for replies.
func (a *Adapter) chatFor(ctx context.Context, addr string) (string, error) {
	addr = strings.ToLower(strings.TrimSpace(addr))
	chat := a.addrKey(addr)
	if a.opt.Hash == nil {
		return chat, nil
	}
	v := addr
	if a.opt.Seal != nil {
		v = a.opt.Seal(addr)
	}
	if err := a.opt.State.SetKV(ctx, "email:addr:"+chat, v); err != nil {
		return "", fmt.Errorf("email: remember address: %w", err)
	}
	return chat, nil
}

// addressOf reverses chatFor.
func (a *Adapter) addressOf(ctx context.Context, chat string) (string, error) {
	if strings.Contains(chat, "@") {
		return chat, nil
	}
	v, ok, err := a.opt.State.GetKV(ctx, "email:addr:"+chat)
	if err != nil {
		return "", fmt.Errorf("email: address of %s: %w", chat, err)
	}
	if !ok {
		return "", &bot.PermanentError{Err: fmt.Errorf("email: no address known for chat %s", chat)}
	}
	if a.opt.Open != nil {
		if v, err = a.opt.Open(v); err != nil {
			return "", fmt.Errorf("email: address of %s: %w", chat, err)
		}
	}
	return v, nil
}

// thread is what a reply needs to land in the customer's thread.
type thread struct {
	Subject string   `json:"subject"`
	Parent  string   `json:"parent"`           // the customer's last Message-ID
	Refs    []string `json:"refs"`             // References of the next reply, oldest first
	Ticket  string   `json:"ticket,omitempty"` // ticket number once one was mentioned
	// Buttons of the last reply: an answer that is one of their numbers or labels is a button press.
	Buttons []bot.Button `json:"buttons,omitempty"`
}

const maxRefs = 20

func (a *Adapter) loadThread(ctx context.Context, chat string) (thread, error) {
	var th thread
	v, ok, err := a.opt.State.GetKV(ctx, "email:thread:"+chat)
	if err != nil || !ok {
		return th, err
	}
	if a.opt.Open != nil {
		if v, err = a.opt.Open(v); err != nil {
			return th, err
		}
	}
	_ = json.Unmarshal([]byte(v), &th)
	return th, nil
}

func (a *Adapter) saveThread(ctx context.Context, chat string, th thread) error {
	if len(th.Refs) > maxRefs {
		th.Refs = append(th.Refs[:1:1], th.Refs[len(th.Refs)-maxRefs+1:]...) // keep the root and the newest
	}
	b, _ := json.Marshal(th)
	v := string(b)
	if a.opt.Seal != nil {
		v = a.opt.Seal(v)
	}
	return a.opt.State.SetKV(ctx, "email:thread:"+chat, v)
}

// remember records the customer's message as the parent of the next reply.
func (a *Adapter) remember(ctx context.Context, chat string, in Inbound) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	th, err := a.loadThread(ctx, chat)
	if err != nil {
		return fmt.Errorf("email: thread: %w", err)
	}
	if s := baseSubject(in.Subject); s != "" {
		th.Subject = s
	}
	if no := ticketNo.FindString(in.Subject); no != "" {
		th.Ticket = no
	}
	if in.MessageID != "" {
		refs := append([]string(nil), in.References...)
		if len(refs) == 0 {
			refs = append(refs, in.InReplyTo...)
		}
		th.Refs = appendUnique(refs, in.MessageID)
		th.Parent = in.MessageID
	}
	if err := a.saveThread(ctx, chat, th); err != nil {
		return fmt.Errorf("email: thread: %w", err)
	}
	return nil
}

// baseSubject strips "Re:"/"回复：" prefixes and kefu's "[GD…]" tag, however they are stacked.
func baseSubject(s string) string {
	for {
		t := strings.TrimSpace(ticketTag.ReplaceAllString(replyPrefix.ReplaceAllString(s, ""), ""))
		if t == s {
			return t
		}
		s = t
	}
}

func appendUnique(l []string, s string) []string {
	if slices.Contains(l, s) {
		return l
	}
	return append(l, s)
}

var (
	ticketNo  = regexp.MustCompile(`GD\d{11,}`)
	ticketTag = regexp.MustCompile(`\[GD\d{11,}\]\s*`)
)

// Send mails r to the customer in their thread. A 5xx answer is permanent; anything else retried.
func (a *Adapter) Send(ctx context.Context, r bot.Reply) (string, error) {
	to, err := a.addressOf(ctx, r.ChatID)
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	th, err := a.loadThread(ctx, r.ChatID)
	if err == nil {
		if no := ticketNo.FindString(r.Text); no != "" && th.Ticket == "" {
			th.Ticket = no
		}
		th.Buttons = r.Buttons
		err = a.saveThread(ctx, r.ChatID, th)
	}
	a.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("email: thread: %w", err)
	}
	_, domain, _ := strings.Cut(a.opt.From, "@")
	msgID := fmt.Sprintf("kefu.%d.%s@%s", r.OutboxID, shortHash(r.ChatID), domain)
	subject := th.Subject
	if subject == "" {
		subject = a.opt.DefaultSubject
	}
	if th.Parent != "" {
		subject = "Re: " + subject
	}
	if th.Ticket != "" {
		subject = "[" + th.Ticket + "] " + subject
	}
	var h mail.Header
	h.SetDate(a.opt.Now())
	h.SetAddressList("From", []*mail.Address{{Name: a.opt.FromName, Address: a.opt.From}})
	h.SetAddressList("To", []*mail.Address{{Address: to}})
	h.SetSubject(strings.TrimSpace(subject))
	h.SetMessageID(msgID)
	if th.Parent != "" {
		h.SetMsgIDList("In-Reply-To", []string{th.Parent})
		h.SetMsgIDList("References", th.Refs)
	}
	h.Set("Auto-Submitted", "auto-replied")
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	var buf bytes.Buffer
	w, err := mail.CreateSingleInlineWriter(&buf, h)
	if err != nil {
		return "", fmt.Errorf("email: compose: %w", err)
	}
	if _, err := w.Write([]byte(Body(r))); err != nil {
		return "", fmt.Errorf("email: compose: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("email: compose: %w", err)
	}
	if err := a.submit(ctx, to, buf.Bytes()); err != nil {
		return "", err
	}
	return "<" + msgID + ">", nil
}

// Body is the plain text of a reply; buttons become a numbered list, and the customer answers with
// a number or a label (see pressed).
func Body(r bot.Reply) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(r.Text))
	if len(r.Buttons) > 0 {
		b.WriteString("\n")
		for i, bt := range r.Buttons {
			b.WriteString("\n[" + strconv.Itoa(i+1) + "] " + bt.Label)
		}
	}
	b.WriteString("\n")
	return strings.ReplaceAll(b.String(), "\n", "\r\n")
}

func shortHash(s string) string {
	return strings.TrimPrefix(fingerprint([]byte(s)), "sha256:")[:12]
}

// submit hands the message to the SMTP server.
func (a *Adapter) submit(ctx context.Context, to string, msg []byte) error {
	conn, err := a.dial(ctx, a.opt.SMTPAddr, a.opt.SMTPSecurity)
	if err != nil {
		return fmt.Errorf("email: smtp dial: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	var c *smtp.Client
	if a.opt.SMTPSecurity == StartTLS {
		if c, err = smtp.NewClientStartTLS(conn, a.tlsConfig(a.opt.SMTPAddr)); err != nil {
			conn.Close()
			return classify("starttls", err)
		}
	} else {
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	_, domain, _ := strings.Cut(a.opt.From, "@")
	if err := c.Hello(domain); err != nil {
		return classify("hello", err)
	}
	if a.opt.SMTPUsername != "" {
		if err := c.Auth(sasl.NewPlainClient("", a.opt.SMTPUsername, a.opt.SMTPPassword)); err != nil {
			return classify("auth", err)
		}
	}
	if err := c.SendMail(a.opt.From, []string{to}, bytes.NewReader(msg)); err != nil {
		return classify("send", err)
	}
	if err := c.Quit(); err != nil {
		a.log.DebugContext(ctx, "smtp quit", "err", err)
	}
	return nil
}

// classify makes a 5xx SMTP answer (bad recipient, refused) permanent.
func classify(op string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code >= 500 {
		return &bot.PermanentError{Err: fmt.Errorf("email: smtp %s: %w", op, err)}
	}
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return &bot.PermanentError{Err: fmt.Errorf("email: smtp %s: %w", op, err)}
	}
	return fmt.Errorf("email: smtp %s: %w", op, err)
}

// NewMemState returns an in-memory State (tests, single process).
func NewMemState() State { return memstate.New() }
