// Package console is the supervisors' web console at /console/: sign-in with local accounts, the
// dashboard of every reports number (server-rendered tables, Apache ECharts charts from embedded
// assets), exports and account management.
//
// Security: sessions are random 256-bit tokens in HttpOnly, SameSite=Lax cookies (Secure behind
// TLS), stored only as SHA-256 hashes; every POST form carries the session's CSRF token (the sign-in
// form a double-submit cookie); failed sign-ins per account and per client address are slowed down
// exponentially; agents see only their own tickets' numbers; pages for other roles answer 403;
// requests without a session are redirected to the sign-in page.
package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/improve"
	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/storage"
)

// Roles.
const (
	RoleAgent      = "agent"
	RoleSupervisor = "supervisor"
	RoleAdmin      = "admin"
)

// ValidRole reports whether r is a known role.
func ValidRole(r string) bool { return r == RoleAgent || r == RoleSupervisor || r == RoleAdmin }

// Translator renders a UI string (locales.Catalog.T has this shape). It returns the key itself when
// the key is unknown; the console then uses its built-in text (see KEYS.md).
type Translator func(lang, key string, args map[string]any) string

// Options configure the console.
type Options struct {
	DB  *storage.DB
	Loc *time.Location // dates in filters and tables (default UTC)
	// ChannelTargets are the channels' own first-response targets, shown beside their report rows.
	ChannelTargets map[string]time.Duration
	T              Translator // nil: built-in texts
	Logger         *slog.Logger
	Secure         bool // set the cookies' Secure flag (serve behind HTTPS)
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// BcryptCost for passwords set through the console (default bcrypt.DefaultCost).
	BcryptCost int
	// SessionTTL is how long a sign-in lasts (default 12 h).
	SessionTTL time.Duration
	// InitialPasswordFile is where serve wrote the first admin's generated password; it is removed
	// when that password is changed.
	InitialPasswordFile string
	// ClientIP returns the address of the client behind a request (the sign-in backoff's key); nil
	// means the peer's address. Serve passes one that believes X-Forwarded-For from trusted proxies only.
	ClientIP func(*http.Request) string
	// Improve, when set, adds the continuous-improvement pages (records, actions, targets).
	Improve *improve.Service
	// Context, when set, ends the live feed's streams when it is done (the server's shutdown, which
	// would otherwise wait for them).
	Context context.Context
	// LivePoll is how often the live feed reads new ticket events (default 250 ms), LiveHeartbeat how
	// often an idle stream gets a keep-alive line (default 15 s), PresenceTTL how long a ticket page's
	// presence heartbeat lasts (default 15 s; the page repeats it every third of that).
	LivePoll, LiveHeartbeat, PresenceTTL time.Duration
	// Desk, when set, adds the agents' inbox and ticket pages (inbox.go, ticket.go); kefu serve passes
	// the bot engine. AckSLA acknowledges SLA breaches (nil: the ack button answers "not found").
	Desk   Desk
	AckSLA SLAAcker
	// HandOff, when set, adds the WeCom tickets' hand-off button: the customer's session goes to the
	// agent's WeCom servicer (kefu serve passes what `kefu wecom handoff` runs). text is the note
	// recorded (done) or the localized refusal; err a desk error.
	HandOff func(ctx context.Context, a bot.Actor, no string) (text string, done bool, err error)
	// AgentsSeeAllTeams lets agents open every team's tickets (default: their own, the unassigned
	// ones not queued for another team, and their team's).
	AgentsSeeAllTeams bool
	// Webhooks, when set, adds the admins' Webhooks page with its test ping (webhooks.go); kefu serve
	// passes the webhook sender that delivers the outbox's webhook rows.
	Webhooks WebhookPinger
}

// Console is the http.Handler of /console/.
type Console struct {
	o       Options
	log     *slog.Logger
	mux     *http.ServeMux
	loginMu sync.Mutex // one sign-in attempt is counted at a time (see reserveLogin)
	hub     *liveHub   // the live feed's shared poll loop (live.go)

	// the inbox's filter lists, cached (inbox.go, filterValues)
	filterMu                sync.Mutex
	filterAt                time.Time
	filterChans, filterCats []string
}

//go:embed assets
var assets embed.FS

// New builds the console.
func New(o Options) (*Console, error) {
	if o.DB == nil {
		return nil, errors.New("console: Options.DB is required")
	}
	if o.Loc == nil {
		o.Loc = time.UTC
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BcryptCost == 0 {
		o.BcryptCost = bcrypt.DefaultCost
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Console{o: o, log: log.With("component", "console"), mux: http.NewServeMux()}
	files := http.StripPrefix("/console/", http.FileServerFS(assets))
	c.mux.HandleFunc("GET /console/assets/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") { // files only: no directory listings
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
	c.mux.HandleFunc("GET /console/login", c.loginPage)
	c.mux.HandleFunc("POST /console/login", c.login)
	c.mux.HandleFunc("POST /console/logout", c.auth(RoleAgent, c.logout))
	c.mux.HandleFunc("GET /console/{$}", c.auth(RoleAgent, c.dashboard))
	c.mux.HandleFunc("GET /console/report.json", c.auth(RoleAgent, c.reportJSON))
	c.mux.HandleFunc("GET /console/export/tickets", c.auth(RoleSupervisor, c.exportTickets))
	c.mux.HandleFunc("GET /console/export/monthly", c.auth(RoleSupervisor, c.exportMonthly))
	c.mux.HandleFunc("GET /console/password", c.auth(RoleAgent, c.passwordPage))
	c.mux.HandleFunc("POST /console/password", c.auth(RoleAgent, c.changePassword))
	c.mux.HandleFunc("GET /console/users", c.auth(RoleAdmin, c.usersPage))
	c.mux.HandleFunc("POST /console/users", c.auth(RoleAdmin, c.addUser))
	c.improveRoutes()
	c.inboxRoutes()
	c.accountRoutes()
	c.liveRoutes()
	c.macroRoutes()
	c.complaintsRoutes()
	c.kbCareRoutes()
	c.attachmentRoutes()
	c.revealRoutes()
	c.webhookRoutes()
	c.mux.HandleFunc("/console", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/console/", http.StatusFound) })
	return c, nil
}

// ServeHTTP implements http.Handler with the console's security headers.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, "/console/assets/") {
		h.Set("Cache-Control", "no-store")
	}
	c.mux.ServeHTTP(w, r)
}

// maxPasswordBytes is bcrypt's limit: it reads at most 72 bytes of a password.
const maxPasswordBytes = 72

// ErrPasswordTooLong is HashPassword's answer to a password over 72 bytes (bcrypt's limit).
var ErrPasswordTooLong = errors.New("console: password must have at most 72 bytes")

// HashPassword hashes a password with bcrypt at the given cost (0: default).
func HashPassword(pw string, cost int) (string, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	if len(pw) < 8 {
		return "", errors.New("console: password must have at least 8 characters")
	}
	if len(pw) > maxPasswordBytes {
		return "", ErrPasswordTooLong
	}
	b, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("console: hash password: %w", err)
	}
	return string(b), nil
}

// RandomPassword returns a random 20-character password.
func RandomPassword() string { return token(15) }

// EnsureAdmin creates the account "admin" with a random password when there is no account at all,
// so the very first `kefu serve` shows the dashboard. The password is returned once, to be printed.
func EnsureAdmin(ctx context.Context, db *storage.DB) (password string, created bool, err error) {
	n, err := db.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", false, err
	}
	pw := RandomPassword()
	hash, err := HashPassword(pw, 0)
	if err != nil {
		return "", false, err
	}
	// generated, so shown to whoever starts the server: it must be changed at the first sign-in
	if _, err := db.CreateUser(ctx, storage.User{Name: "admin", Role: RoleAdmin, PasswordHash: hash, MustChange: true}); err != nil {
		if errors.Is(err, bot.ErrDuplicate) { // another process won the race
			return "", false, nil
		}
		return "", false, err
	}
	return pw, true, nil
}

func token(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) string {
	s := sha256.Sum256([]byte(t))
	return hex.EncodeToString(s[:])
}

const (
	sessionCookie = "kefu_console"
	loginCookie   = "kefu_console_login" // double-submit CSRF token of the sign-in form
	langCookie    = "kefu_console_lang"
)

type userKey struct{}

type session struct {
	user storage.User
	csrf string
	tok  string
}

func rank(role string) int {
	switch role {
	case RoleAdmin:
		return 3
	case RoleSupervisor:
		return 2
	case RoleAgent:
		return 1
	}
	return 0
}

// auth requires a session of at least role min; POSTs also need the session's CSRF token.
func (c *Console) auth(min string, h func(http.ResponseWriter, *http.Request, session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(sessionCookie)
		if err != nil || ck.Value == "" {
			c.toLogin(w, r)
			return
		}
		u, csrf, err := c.o.DB.Session(r.Context(), hashToken(ck.Value), c.o.Now())
		if errors.Is(err, bot.ErrNotFound) {
			c.toLogin(w, r)
			return
		}
		if err != nil {
			c.fail(w, r, err)
			return
		}
		s := session{user: u, csrf: csrf, tok: ck.Value}
		if u.MustChange && r.URL.Path != "/console/password" && r.URL.Path != "/console/logout" {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/console/password", http.StatusSeeOther)
				return
			}
			c.forbidden(w, r, s)
			return
		}
		if rank(u.Role) < rank(min) {
			c.forbidden(w, r, s)
			return
		}
		if r.Method == http.MethodPost && !sameToken(r.PostFormValue("csrf"), csrf) {
			c.log.WarnContext(r.Context(), "csrf token missing or wrong", "user", u.Name, "path", r.URL.Path)
			http.Error(w, c.t(c.lang(r, s), "console.csrf_failed"), http.StatusForbidden)
			return
		}
		h(w, r, s)
	}
}

func sameToken(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (c *Console) toLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	c.log.ErrorContext(r.Context(), "console request failed", "path", r.URL.Path, "err", err)
	http.Error(w, c.t(c.lang(r, session{}), "console.error"), http.StatusInternalServerError)
}

func (c *Console) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/console/", MaxAge: maxAge, HttpOnly: true,
		Secure: c.o.Secure, SameSite: http.SameSiteLaxMode})
}

// Sign-in backoff. Every attempt is counted as a failure before its password is checked (a right
// password takes the count back), under a lock and with a compare-and-set in the database, so
// parallel guesses cannot all be evaluated against one count. Two keys:
//
//   - the client ("ip:ADDR", the address from the trusted proxies' X-Forwarded-For, see
//     Options.ClientIP): after 3 failures each attempt waits 2^(n−3) s since the last, at most
//     15 minutes — a guessing client slows to a crawl;
//   - the account ("user:" + a hash of the lower-cased name, from anywhere): the same, but at most
//     accountMaxWait, so guesses spread over many clients are slowed while the real user with the
//     right password, from their own client, never waits longer than that.
const (
	clientMaxWait  = 15 * time.Minute
	accountMaxWait = 10 * time.Second
)

func backoff(failures int, max time.Duration) time.Duration {
	if failures < 3 {
		return 0
	}
	d := time.Second << min(failures-3, 10)
	return min(d, max)
}

type backoffKey struct {
	key string
	max time.Duration
}

// loginKeys are the backoff keys of a sign-in attempt. The typed name is stored only as a hash.
func loginKeys(name, ip string) []backoffKey {
	h := sha256.Sum256([]byte(strings.ToLower(name)))
	return []backoffKey{{"ip:" + ip, clientMaxWait}, {"user:" + hex.EncodeToString(h[:12]), accountMaxWait}}
}

// reserveLogin counts an attempt for every key, or returns how long the caller must wait first.
func (c *Console) reserveLogin(ctx context.Context, keys []backoffKey) (time.Duration, error) {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.key
	}
	counted := map[string]bool{}
	for try := 0; try < 5; try++ { // another process may count between our read and write: read again
		counts, err := c.o.DB.LoginFailureCounts(ctx, names)
		if err != nil {
			return 0, err
		}
		now := c.o.Now()
		var wait time.Duration
		for _, k := range keys {
			f := counts[k.key]
			wait = max(wait, backoff(f.Failures, k.max)-now.Sub(f.LastAt))
		}
		if wait > 0 {
			return wait, nil
		}
		again := false
		for _, k := range keys {
			if counted[k.key] {
				continue
			}
			ok, err := c.o.DB.BumpLoginFailure(ctx, k.key, counts[k.key].Failures, now)
			if err != nil {
				return 0, err
			}
			counted[k.key], again = ok, again || !ok
		}
		if !again {
			break
		}
	}
	return 0, nil
}

// nameForLog is what the log says about a typed user name: the account's name when it exists,
// otherwise a short hash, never what was typed (it may be a password typed into the wrong field).
func nameForLog(typed string, u storage.User) slog.Attr {
	if u.ID != 0 {
		return slog.String("user", u.Name)
	}
	h := sha256.Sum256([]byte(typed))
	return slog.String("unknown_user_hash", hex.EncodeToString(h[:4]))
}

func (c *Console) clientIP(r *http.Request) string {
	if c.o.ClientIP != nil {
		return c.o.ClientIP(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	lang := c.lang(r, session{})
	ck, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), ck.Value) {
		http.Error(w, c.t(lang, "console.csrf_failed"), http.StatusForbidden)
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	pw := r.PostFormValue("password")
	ip := c.clientIP(r)
	keys := loginKeys(name, ip)
	ctx := r.Context()
	wait, err := c.reserveLogin(ctx, keys)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if wait > 0 {
		secs := int(wait.Seconds()) + 1
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		c.renderLogin(w, r, http.StatusTooManyRequests, c.t(lang, "console.login_wait", "seconds", secs))
		return
	}
	u, err := c.o.DB.UserByName(ctx, name)
	if err != nil && !errors.Is(err, bot.ErrNotFound) {
		c.fail(w, r, err)
		return
	}
	hash := u.PasswordHash
	if hash == "" {
		hash = "$2a$10$0000000000000000000000000000000000000000000000000000." // same work for unknown names
	}
	if len(pw) > maxPasswordBytes || bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) != nil || u.ID == 0 {
		c.log.WarnContext(ctx, "console sign-in failed", nameForLog(name, u), "ip", ip)
		c.renderLogin(w, r, http.StatusUnauthorized, c.t(lang, "console.login_failed"))
		return
	}
	if u.Disabled() { // told only to whoever knows the password
		c.log.WarnContext(ctx, "console sign-in of a disabled account", "user", u.Name, "ip", ip)
		c.renderLogin(w, r, http.StatusForbidden, c.t(lang, "console.acc.account_disabled"))
		return
	}
	// Right password: the account's count is cleared, the client's attempt taken back (not cleared,
	// or one valid account would reset a guessing client's count).
	if err := c.o.DB.ClearLoginFailures(ctx, []string{keys[1].key}); err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.o.DB.ForgiveLoginFailure(ctx, keys[0].key); err != nil {
		c.fail(w, r, err)
		return
	}
	tok := token(32)
	if err := c.o.DB.CreateSession(ctx, hashToken(tok), u.ID, token(32), c.o.Now().Add(c.o.SessionTTL)); err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, sessionCookie, tok, int(c.o.SessionTTL.Seconds()))
	c.setCookie(w, loginCookie, "", -1)
	c.log.InfoContext(ctx, "console sign-in", "user", u.Name, "role", u.Role)
	if u.MustChange {
		http.Redirect(w, r, "/console/password", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

func (c *Console) passwordPage(w http.ResponseWriter, r *http.Request, s session) {
	notice := ""
	if s.user.MustChange {
		notice = c.t(c.lang(r, s), "console.must_change")
	}
	c.render(w, r, http.StatusOK, "password.html", page{Lang: c.lang(r, s), User: s.user, CSRF: s.csrf, Notice: notice})
}

// changePassword sets the signed-in user's own password (the current one is asked again) and ends
// their sessions: they sign in again with the new one.
func (c *Console) changePassword(w http.ResponseWriter, r *http.Request, s session) {
	lang := c.lang(r, s)
	cur, pw, again := r.PostFormValue("current"), r.PostFormValue("password"), r.PostFormValue("repeat")
	bad := func(status int, key string) {
		c.render(w, r, status, "password.html", page{Lang: lang, User: s.user, CSRF: s.csrf, Error: c.t(lang, key)})
	}
	if len(pw) > maxPasswordBytes {
		bad(http.StatusBadRequest, "console.password_too_long")
		return
	}
	if len(cur) > maxPasswordBytes || bcrypt.CompareHashAndPassword([]byte(s.user.PasswordHash), []byte(cur)) != nil ||
		pw != again || len(pw) < 8 || pw == cur {
		bad(http.StatusBadRequest, "console.password_mismatch")
		return
	}
	hash, err := HashPassword(pw, c.o.BcryptCost)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// the same storage call as an admin's reset, so the change is audited too
	if err := c.o.DB.ResetUserPassword(r.Context(), actorOf(s), s.user.Name, hash, false); err != nil {
		c.fail(w, r, err)
		return
	}
	if s.user.MustChange && c.o.InitialPasswordFile != "" {
		if err := os.Remove(c.o.InitialPasswordFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			c.log.WarnContext(r.Context(), "remove the initial password file", "err", err)
		}
	}
	c.log.InfoContext(r.Context(), "console password changed", "user", s.user.Name)
	c.setCookie(w, sessionCookie, "", -1)
	c.renderLogin(w, r, http.StatusOK, c.t(lang, "console.password_changed"))
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, s session) {
	if err := c.o.DB.DeleteSession(r.Context(), hashToken(s.tok)); err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

// filter reads the dashboard's filter from the query. Agents are pinned to their own tickets.
func (c *Console) filter(r *http.Request, s session) (reports.Filter, formValues) {
	q := r.URL.Query()
	now := c.o.Now()
	today := now.In(c.o.Loc)
	to := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, c.o.Loc).AddDate(0, 0, 1)
	from := to.AddDate(0, 0, -30)
	v := formValues{}
	if t, err := time.ParseInLocation("2006-01-02", q.Get("to"), c.o.Loc); err == nil {
		to = t.AddDate(0, 0, 1)
	}
	if t, err := time.ParseInLocation("2006-01-02", q.Get("from"), c.o.Loc); err == nil && t.Before(to) {
		from = t
	}
	if !from.Before(to) {
		from = to.AddDate(0, 0, -30)
	}
	v.From, v.To = from.Format("2006-01-02"), to.AddDate(0, 0, -1).Format("2006-01-02")
	clip := func(s string) string {
		s = strings.TrimSpace(s)
		if len(s) > 100 {
			s = s[:100]
		}
		return s
	}
	v.Channel, v.Category, v.Priority, v.Agent = clip(q.Get("channel")), clip(q.Get("category")), clip(q.Get("priority")), clip(q.Get("agent"))
	switch g := q.Get("granularity"); g {
	case "day", "week", "month":
		v.Granularity = g
	}
	if s.user.Role == RoleAgent {
		v.Agent = s.user.AgentID
		if v.Agent == "" {
			v.Agent = "\x00none" // an agent without an agent id sees nothing rather than everyone
		}
	}
	return reports.Filter{From: from, To: to, Channel: v.Channel, Category: v.Category, Priority: v.Priority,
		Agent: v.Agent, Loc: c.o.Loc, Granularity: v.Granularity, Now: now}, v
}

type formValues struct {
	From, To, Channel, Category, Priority, Agent, Granularity string
}

func (v formValues) query() string {
	parts := []string{"from=" + v.From, "to=" + v.To}
	for _, kv := range [][2]string{{"channel", v.Channel}, {"category", v.Category}, {"priority", v.Priority}, {"agent", v.Agent}} {
		if kv[1] != "" && !strings.HasPrefix(kv[1], "\x00") {
			parts = append(parts, kv[0]+"="+urlEscape(kv[1]))
		}
	}
	return strings.Join(parts, "&")
}
