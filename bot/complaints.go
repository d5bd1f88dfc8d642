package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Complaints (issue 11; seeds: 投诉处理升级流程, 标准化解决方案库, 回访). A complaint ticket gets a level
// from configurable rules (keywords, category, customer flags, repeat), and the level's priority;
// agents record its core points, verification and responsible party, propose standard solutions within
// their limits (above them a supervisor approves), and a return visit follows the resolution.

// ComplaintLevel is one rule of ComplaintConfig.Levels. Level 1 is the most severe. A complaint gets the
// most severe level whose rule matches; with none it gets the least severe configured level.
type ComplaintLevel struct {
	Level    int      `yaml:"level"`
	Priority Priority `yaml:"priority"` // the ticket is raised to at least this priority
	// Words (any language; Chinese as substrings, others as whole words, case-insensitively) in the
	// customer's description that give this level.
	Words []string `yaml:"words,omitempty"`
	// Categories whose complaints get this level.
	Categories []string `yaml:"categories,omitempty"`
	// Flags of the customer (kefu customer flag …) that give this level.
	Flags []string `yaml:"flags,omitempty"`
	// Repeat: a repeat complaint (same customer, same category, within RepeatWindow) gets this level.
	Repeat bool `yaml:"repeat,omitempty"`
}

// ComplaintConfig configures complaint handling. Zero fields take DefaultComplaintConfig's values.
type ComplaintConfig struct {
	Levels []ComplaintLevel `yaml:"levels,omitempty"`
	// CorePoints are the keys an agent may record as a complaint's core points (labels: locale key
	// "complaint.point.<key>", else the key).
	CorePoints []string `yaml:"core_points,omitempty"`
	// Parties are the keys of the responsible party (labels: "complaint.party.<key>").
	Parties []string `yaml:"parties,omitempty"`
	// RepeatWindow: a complaint by the same customer in the same category within this time is a repeat.
	RepeatWindow time.Duration `yaml:"repeat_window,omitempty"`
	// Solutions is the standard solution library (default DefaultSolutions).
	Solutions []Solution `yaml:"solutions,omitempty"`
	// AgentLimits overrides Solution.Limit per agent id and solution key (yuan).
	AgentLimits map[string]map[string]float64 `yaml:"agent_limits,omitempty"`
	// ProposeAny allows proposals on tickets that are not complaints.
	ProposeAny bool `yaml:"propose_any,omitempty"`
	// VisitDays is when a resolved complaint's return visit is due, in working days of the SLA
	// calendar (default 3); LowRatingVisit is the time for a score <= 3 (default 24h).
	VisitDays      int           `yaml:"visit_days,omitempty"`
	LowRatingVisit time.Duration `yaml:"low_rating_visit,omitempty"`
	// AutoClose closes resolved tickets the customer never confirmed after this time (default 72h).
	AutoClose time.Duration `yaml:"auto_close,omitempty"`
	// TaskKinds are the kinds of follow-through task on a ticket (default DefaultTaskKinds; labels:
	// locale key "task.kind.<key>").
	TaskKinds []string `yaml:"task_kinds,omitempty"`
}

// Solution is one entry of the standard solution library.
type Solution struct {
	Key string `yaml:"key"` // label: locale key "solution.<key>"
	// Amount: the solution takes an amount in yuan (refund, coupon).
	Amount bool `yaml:"amount,omitempty"`
	// Limit is the amount (yuan) an agent may grant alone; above it a supervisor approves.
	Limit float64 `yaml:"limit,omitempty"`
	// Approval: every proposal of this solution needs a supervisor.
	Approval bool `yaml:"approval,omitempty"`
}

// DefaultSolutions: refund (agents up to 100 yuan), coupon (up to 50), exchange, reship, repair.
func DefaultSolutions() []Solution {
	return []Solution{{Key: "refund", Amount: true, Limit: 100}, {Key: "coupon", Amount: true, Limit: 50},
		{Key: "exchange"}, {Key: "reship"}, {Key: "repair"}}
}

// DefaultComplaintConfig follows the seeds: level 1 for safety, legal and media (15-minute first
// response through the SLA category "complaint_l1"), level 2 for fraud, overcharging, rudeness and
// repeats, level 3 otherwise (4 hours, "complaint_l3").
func DefaultComplaintConfig() ComplaintConfig {
	return ComplaintConfig{
		Levels: []ComplaintLevel{
			{Level: 1, Priority: P0, Flags: []string{"media"}, Words: []string{
				"安全", "危险", "起火", "着火", "冒烟", "漏电", "触电", "爆炸", "受伤", "烫伤", "律师", "起诉", "法院", "诉讼", "媒体", "记者", "曝光", "12315", "消协",
				"safety", "dangerous", "fire", "smoke", "electric shock", "injured", "injury", "lawyer", "sue", "lawsuit", "court", "media", "journalist", "press"}},
			{Level: 2, Priority: P1, Repeat: true, Flags: []string{"vip"}, Words: []string{
				"欺骗", "骗子", "诈骗", "多收", "乱收费", "态度恶劣", "态度差", "态度很差", "态度太差", "骂人", "辱骂", "威胁",
				"scam", "fraud", "overcharged", "rude", "insulted", "threatened"}},
			{Level: 3, Priority: P1},
		},
		CorePoints:   []string{"attitude", "quality", "logistics", "billing", "installation", "other"},
		Parties:      []string{"agent", "product", "logistics", "other"},
		RepeatWindow: 30 * 24 * time.Hour,
	}
}

func (c ComplaintConfig) withDefaults() ComplaintConfig {
	d := DefaultComplaintConfig()
	if len(c.Levels) == 0 {
		c.Levels = d.Levels
	}
	if len(c.CorePoints) == 0 {
		c.CorePoints = d.CorePoints
	}
	if len(c.Parties) == 0 {
		c.Parties = d.Parties
	}
	if c.RepeatWindow <= 0 {
		c.RepeatWindow = d.RepeatWindow
	}
	if len(c.Solutions) == 0 {
		c.Solutions = DefaultSolutions()
	}
	if c.VisitDays <= 0 {
		c.VisitDays = 3
	}
	if c.LowRatingVisit <= 0 {
		c.LowRatingVisit = 24 * time.Hour
	}
	if c.AutoClose == 0 {
		c.AutoClose = 72 * time.Hour
	}
	if len(c.TaskKinds) == 0 {
		c.TaskKinds = DefaultTaskKinds()
	}
	slices.SortStableFunc(c.Levels, func(a, b ComplaintLevel) int { return a.Level - b.Level })
	return c
}

// Validate reports the first problem of c (after defaults).
func (c ComplaintConfig) Validate() error {
	c = c.withDefaults()
	seen := map[int]bool{}
	for i, l := range c.Levels {
		if l.Level < 1 || l.Level > 9 {
			return fmt.Errorf("complaints.levels[%d]: level %d: want 1..9", i, l.Level)
		}
		if seen[l.Level] {
			return fmt.Errorf("complaints.levels[%d]: level %d twice", i, l.Level)
		}
		seen[l.Level] = true
		if _, err := ParsePriority(string(l.Priority)); err != nil {
			return fmt.Errorf("complaints.levels[%d]: %w", i, err)
		}
	}
	return nil
}

// ComplaintFacts is what the level rules look at.
type ComplaintFacts struct {
	Text     string   // the customer's description
	Category string   // ticket category
	Flags    []string // customer flags
	Repeat   bool     // a repeat complaint
}

// Level returns the level rule for f: the most severe matching rule, else the least severe level.
// Why is the reason shown to agents ("words: 漏电", "repeat", "flag: vip", "category: x", "default").
func (c ComplaintConfig) Level(f ComplaintFacts) (lvl ComplaintLevel, why string) {
	c = c.withDefaults()
	text := strings.ToLower(f.Text)
	for _, l := range c.Levels {
		for _, w := range l.Words {
			if w != "" && containsWord(text, strings.ToLower(w)) {
				return l, "word: " + w
			}
		}
		if f.Category != "" && slices.Contains(l.Categories, f.Category) {
			return l, "category: " + f.Category
		}
		for _, fl := range f.Flags {
			if slices.Contains(l.Flags, fl) {
				return l, "flag: " + fl
			}
		}
		if l.Repeat && f.Repeat {
			return l, "repeat"
		}
	}
	return c.Levels[len(c.Levels)-1], "default"
}

// SLACategory is the SLA category of a complaint of level n: "complaint_l<n>" (bot/sla categories
// override the priority's targets per level); "" for level 0.
func SLACategory(category string, level int) string {
	if level <= 0 {
		return category
	}
	return fmt.Sprintf("complaint_l%d", level)
}

// ComplaintDetails is what the agent records about a complaint (the seeds' 记录投诉核心点, 核实,
// 判定责任方).
type ComplaintDetails struct {
	TicketID     int64
	CorePoints   []string
	Verification string // what was checked (order records, service logs …); personal data
	Responsible  string // a ComplaintConfig.Parties key
	UpdatedBy    string
	UpdatedAt    time.Time
}

// higher returns the more urgent of two priorities.
func higher(a, b Priority) Priority {
	rank := map[Priority]int{P0: 0, P1: 1, P2: 2}
	ra, oka := rank[a]
	rb, okb := rank[b]
	switch {
	case !oka:
		return b
	case !okb:
		return a
	case rb < ra:
		return b
	}
	return a
}

// containsWord matches Chinese words as substrings and others as whole words (like flows' word lists).
func containsWord(text, word string) bool {
	if hasHan(word) {
		return strings.Contains(text, word)
	}
	for i := 0; ; {
		j := strings.Index(text[i:], word)
		if j < 0 {
			return false
		}
		s, e := i+j, i+j+len(word)
		if (s == 0 || !isASCIIWord(text[s-1])) && (e == len(text) || !isASCIIWord(text[e])) {
			return true
		}
		i = s + 1
	}
}

func isASCIIWord(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF {
			return true
		}
	}
	return false
}

// ProposalStatus is where a standard-solution proposal stands.
type ProposalStatus string

const (
	ProposalApproval ProposalStatus = "approval" // above the proposer's limit: waiting for a supervisor
	ProposalOffered  ProposalStatus = "offered"  // sent to the customer with accept / decline buttons
	ProposalAccepted ProposalStatus = "accepted"
	ProposalDeclined ProposalStatus = "declined" // by the customer, with a reason: back to the agent
	ProposalRejected ProposalStatus = "rejected" // by the supervisor
	// ProposalWithdrawn: still offered, or waiting for a supervisor, when the ticket was resolved or
	// closed — the resolution superseded it.
	ProposalWithdrawn ProposalStatus = "withdrawn"
)

// Proposal is a standard solution offered on a ticket (the seeds' 标准化解决方案库).
type Proposal struct {
	ID         int64
	TicketID   int64
	TicketNo   string
	Solution   string // a SolutionConfig key
	Amount     int64  // in fen (0.01 yuan); 0 for solutions without an amount
	Status     ProposalStatus
	ProposedBy string
	ApprovedBy string // the supervisor who approved an amount above the proposer's limit
	Reason     string // the customer's decline reason, or the supervisor's rejection reason
	CreatedAt  time.Time
	DecidedAt  *time.Time
}

// Return visit reasons and outcomes.
const (
	VisitComplaint = "complaint"  // a resolved complaint: within 3 working days
	VisitLowRating = "low_rating" // a score <= 3: within 24 hours

	VisitSatisfied    = "satisfied"
	VisitNotSatisfied = "not_satisfied"
)

// ReturnVisit is a 回访 due on a ticket. It is done only when an outcome is recorded.
type ReturnVisit struct {
	ID        int64
	TicketID  int64
	TicketNo  string
	Reason    string
	Owner     string
	DueAt     time.Time
	Outcome   string
	Note      string // personal data
	DoneBy    string
	DoneAt    *time.Time
	CreatedAt time.Time
}

// Done reports whether an outcome was recorded.
func (v ReturnVisit) Done() bool { return v.DoneAt != nil }

// ComplaintReader reads complaint records.
type ComplaintReader interface {
	// ComplaintDetails returns what the agent recorded (the zero value with TicketID set when nothing).
	ComplaintDetails(ctx context.Context, ticketID int64) (ComplaintDetails, error)
	// Proposals returns a ticket's proposals, oldest first.
	Proposals(ctx context.Context, ticketID int64) ([]Proposal, error)
	// ReturnVisits returns a ticket's return visits, oldest first.
	ReturnVisits(ctx context.Context, ticketID int64) ([]ReturnVisit, error)
}

// ComplaintTx writes complaint records inside an engine or desk transaction.
type ComplaintTx interface {
	ComplaintReader
	// RecentComplaint returns the newest complaint ticket of the customer in category created at or
	// after since, or "".
	RecentComplaint(ctx context.Context, customerID int64, category string, since time.Time) (string, error)
	// CustomerFlags returns the customer's flags ("vip", "media").
	CustomerFlags(ctx context.Context, customerID int64) ([]string, error)
	// SetCustomerFlags replaces them.
	SetCustomerFlags(ctx context.Context, customerID int64, flags []string) error
	SaveComplaintDetails(ctx context.Context, d ComplaintDetails) error
	// SaveProposal inserts p (ID 0) or updates its status, approver, reason and decision time.
	SaveProposal(ctx context.Context, p Proposal) (Proposal, error)
	// SaveReturnVisit inserts v, or updates the visit of the same ticket and reason.
	SaveReturnVisit(ctx context.Context, v ReturnVisit) (ReturnVisit, error)
	// DueVisits returns undone visits due at or before now, oldest first.
	DueVisits(ctx context.Context, now time.Time, limit int) ([]ReturnVisit, error)
	// FireOnce records a notification in sla_fired and reports whether this call was the first (the
	// SLA engine's exactly-once machinery, shared by several processes).
	FireOnce(ctx context.Context, ticketID int64, kind, target string, due, at time.Time) (bool, error)
}
