package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// DefaultAPIURL is Slack's Web API base. The trailing slash is required by slack-go.
const DefaultAPIURL = "https://slack.com/api/"

// Store keeps the package's small durable state: card references (ticket -> channel/ts, thread ->
// ticket), the feed cursor and markers used to avoid posting a message twice. Keys are namespaced with
// "slack:". storage implements it; GetKV reports ok=false for a missing key.
type Store interface {
	GetKV(ctx context.Context, key string) (val string, ok bool, err error)
	SetKV(ctx context.Context, key, val string) error
}

// FAQEntry is one FAQ library entry as `/kefu faq` shows and edits it.
type FAQEntry struct {
	ID       string
	Lang     string
	Question string
	Answer   string
}

// FAQ is the optional FAQ library behind `/kefu faq search|add|edit`. When Options.FAQ is nil the
// command answers "not available".
type FAQ interface {
	Search(ctx context.Context, query, lang string, limit int) ([]FAQEntry, error)
	Add(ctx context.Context, a bot.Actor, e FAQEntry) (FAQEntry, error)         // e.ID empty: the library assigns one
	Edit(ctx context.Context, a bot.Actor, id, answer string) (FAQEntry, error) // bot.ErrNotFound for an unknown id
}

// Reports is the optional source of `/kefu report today|week|month`. It returns ready-to-post text
// (Slack mrkdwn) in lang. When Options.Reports is nil the command answers "not available".
type Reports interface {
	Report(ctx context.Context, period, lang string) (string, error)
}

// Improve is the optional runner of `/kefu improve …` (package improve's Chat): it answers one
// command line for the acting agent in lang. When Options.Improve is nil the command answers "not
// available".
type Improve interface {
	Run(ctx context.Context, actor, text, lang string) string
}

// Translator renders a user-facing string; locales.(*Catalog).T has this shape.
type Translator func(lang, key string, args map[string]any) string

// Routing sends each ticket to its team's channel.
//
// Example (the seeds' dispatch rules: 技术类→技术支持团队, 投诉类→客诉处理专员/资深客服, 定制化→产品团队):
// Categories{"tech": "tech", "complaint": "complaints", "suggestion": "product", "product": "product"},
// Channels{"tech": "C_TECH", "complaints": "C_SENIOR", "product": "C_PRODUCT", "general": "C_DESK"},
// ComplaintTeam "complaints", DefaultTeam "general", Supervisors "C_SUP".
type Routing struct {
	Categories    map[string]string // ticket category key -> team name
	Channels      map[string]string // team name -> Slack channel id
	ComplaintTeam string            // team for tickets flagged as complaints, whatever their category
	DefaultTeam   string            // team for categories not listed
	Default       string            // channel id used when the team has no channel
	Supervisors   string            // supervisors' channel id: P0, complaints, escalations, low ratings, reopenings, SLA
}

// Members lists Slack user ids and user group ids (S…); group membership is resolved through
// usergroups.users.list and cached.
type Members struct {
	Users  []string
	Groups []string
}

// Options configure an App. BotToken, SigningSecret (unless AppToken is set), Desk and Store are required.
type Options struct {
	BotToken      string // xoxb-…
	SigningSecret string // verifies HTTP requests (v0 signatures)
	AppToken      string // xapp-…; when set, Run also serves Socket Mode
	APIURL        string // default DefaultAPIURL; a trailing slash is added when missing
	HTTPClient    *http.Client

	Desk    bot.Desk
	Store   Store
	FAQ     FAQ     // optional
	Reports Reports // optional
	Improve Improve // optional: /kefu improve …
	// Complaints, when set, runs /kefu propose|approve|reject|visit (standard solutions, return visits).
	Complaints Complaints
	// KnownIssues, when set, lists the open improvement records of a category; open tickets' cards
	// show them as 「已知问题 IMP-…」.
	KnownIssues func(ctx context.Context, category string) []string
	// FollowUp, when set, runs /kefu task … and the cards' task, FAQ-answer and FAQ-draft buttons
	// (followup.go).
	FollowUp FollowUp
	// ReplyWindow, when set, tells an open ticket's platform reply window (WeChat, WeCom: 48 hours
	// after the customer's last message); the card shows the time left or that it is closed.
	ReplyWindow func(ctx context.Context, t bot.Ticket) bot.WindowState
	// HandOff, when set, runs /kefu handoff GD…: the WeCom customer's session goes to the acting
	// agent's WeCom servicer. text is the answer (done false: a refusal, localized); err a desk error.
	HandOff func(ctx context.Context, actor bot.Actor, no string) (text string, done bool, err error)
	SLA     SLA // optional: Acknowledge button on SLA pings and /kefu ack
	// Customers, when set, adds the customer's intake details and earlier tickets to a new card's
	// thread and to /kefu show.
	Customers Customers

	Routing     Routing
	Agents      Members
	Supervisors Members // supervisors are agents too
	AutoAssign  bool
	OnDuty      map[string][]string // team name -> Slack user ids, for AutoAssign (fewest open tickets wins)

	Lang       string     // Slack-side language, default "zh-CN"
	T          Translator // nil: keys are shown as they are
	ConsoleURL string     // optional link on cards: ConsoleURL + "/tickets/" + number

	PollInterval time.Duration // feed polling, default 1s
	AckTimeout   time.Duration // how long a command may take before the answer moves to response_url, default 2.5s
	GroupTTL     time.Duration // user group membership cache, default 5m

	Logger *slog.Logger
	Now    func() time.Time
}

func (o *Options) validate() error {
	var errs []error
	if o.BotToken == "" {
		errs = append(errs, errors.New("BotToken is required"))
	}
	if o.SigningSecret == "" && o.AppToken == "" {
		errs = append(errs, errors.New("SigningSecret (HTTP mode) or AppToken (Socket Mode) is required"))
	}
	if o.Desk == nil {
		errs = append(errs, errors.New("Desk is required"))
	}
	if o.Store == nil {
		errs = append(errs, errors.New("Store is required"))
	}
	if len(o.Agents.Users)+len(o.Agents.Groups)+len(o.Supervisors.Users)+len(o.Supervisors.Groups) == 0 {
		errs = append(errs, errors.New("no agents or supervisors configured"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("slack: options: %w", err)
	}
	return nil
}
