package slack

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/kefu-dev/kefu/bot"
)

// access decides who is an agent or supervisor: listed user ids, or members of listed user groups
// (usergroups.users.list, cached for ttl). Display names come from users.info, cached as well.
type access struct {
	api       *slack.Client
	agents    map[string]bool
	sups      map[string]bool
	agentGrps []string
	supGrps   []string
	ttl       time.Duration
	now       func() time.Time

	mu     sync.Mutex
	groups map[string]groupCache
	names  map[string]nameCache
}

type groupCache struct {
	members map[string]bool
	at      time.Time
}

type nameCache struct {
	name string
	at   time.Time
}

func newAccess(api *slack.Client, agents, sups Members, ttl time.Duration, now func() time.Time) *access {
	set := func(ids []string) map[string]bool {
		m := make(map[string]bool, len(ids))
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	return &access{
		api: api, agents: set(agents.Users), sups: set(sups.Users),
		agentGrps: agents.Groups, supGrps: sups.Groups, ttl: ttl, now: now,
		groups: map[string]groupCache{}, names: map[string]nameCache{},
	}
}

// role reports whether user is an agent and whether a supervisor (supervisors are agents). A group
// that cannot be read counts as not containing the user (fail closed); the error is returned for logging.
func (ac *access) role(ctx context.Context, user string) (agent, supervisor bool, err error) {
	if user == "" {
		return false, false, nil
	}
	supervisor = ac.sups[user]
	if !supervisor {
		var e error
		supervisor, e = ac.inGroups(ctx, user, ac.supGrps)
		err = e
	}
	if supervisor {
		return true, true, nil
	}
	agent = ac.agents[user]
	if !agent {
		var e error
		agent, e = ac.inGroups(ctx, user, ac.agentGrps)
		if e != nil {
			err = e
		}
	}
	return agent, false, err
}

func (ac *access) inGroups(ctx context.Context, user string, groups []string) (bool, error) {
	var firstErr error
	for _, g := range groups {
		m, err := ac.members(ctx, g)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if m[user] {
			return true, nil
		}
	}
	return false, firstErr
}

func (ac *access) members(ctx context.Context, group string) (map[string]bool, error) {
	ac.mu.Lock()
	c, ok := ac.groups[group]
	ac.mu.Unlock()
	if ok && ac.now().Sub(c.at) < ac.ttl {
		return c.members, nil
	}
	ids, err := ac.api.GetUserGroupMembersContext(ctx, group)
	if err != nil {
		if ok { // serve the stale list rather than lock everyone out during a Slack hiccup
			return c.members, fmt.Errorf("slack: usergroups.users.list %s: %w", group, err)
		}
		return nil, fmt.Errorf("slack: usergroups.users.list %s: %w", group, err)
	}
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	ac.mu.Lock()
	ac.groups[group] = groupCache{members: m, at: ac.now()}
	ac.mu.Unlock()
	return m, nil
}

// name returns a display name for user (users.info), or fallback when Slack cannot tell.
func (ac *access) name(ctx context.Context, user, fallback string) string {
	ac.mu.Lock()
	c, ok := ac.names[user]
	ac.mu.Unlock()
	if ok && ac.now().Sub(c.at) < ac.ttl {
		return c.name
	}
	u, err := ac.api.GetUserInfoContext(ctx, user)
	if err != nil || u == nil {
		if ok {
			return c.name
		}
		return fallback
	}
	n := u.Profile.DisplayName
	if n == "" {
		n = u.RealName
	}
	if n == "" {
		n = u.Name
	}
	if n == "" {
		n = fallback
	}
	ac.mu.Lock()
	ac.names[user] = nameCache{name: n, at: ac.now()}
	ac.mu.Unlock()
	return n
}

// actor resolves a Slack user into a bot.Actor; ok=false for anyone who is not an agent.
func (a *App) actor(ctx context.Context, user, fallbackName string) (bot.Actor, bool) {
	agent, sup, err := a.access.role(ctx, user)
	if err != nil {
		a.log.WarnContext(ctx, "user group lookup failed", "user", user, "err", err)
	}
	if !agent {
		return bot.Actor{}, false
	}
	return bot.Actor{ID: actorID(user), Name: a.access.name(ctx, user, fallbackName), Supervisor: sup}, true
}

// ResolveAgents lists the configured Slack agents and supervisors — the user ids plus the current
// members of the configured user groups — as bot.AgentConfig with ids "slack:U…", for
// bot.Options.Agents (the Desk accepts only actors it knows). It calls usergroups.users.list once per
// group; it needs BotToken and APIURL (HTTPClient optional) and nothing else from o. Group changes after
// the call reach the Desk only when it is called again.
func ResolveAgents(ctx context.Context, o Options) ([]bot.AgentConfig, error) {
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	if !strings.HasSuffix(o.APIURL, "/") {
		o.APIURL += "/"
	}
	opts := []slack.Option{slack.OptionAPIURL(o.APIURL)}
	if o.HTTPClient != nil {
		opts = append(opts, slack.OptionHTTPClient(o.HTTPClient))
	}
	api := slack.New(o.BotToken, opts...)
	var (
		out  []bot.AgentConfig
		seen = map[string]int{}
	)
	add := func(user string, sup bool) {
		if i, ok := seen[user]; ok {
			out[i].Supervisor = out[i].Supervisor || sup
			return
		}
		seen[user] = len(out)
		out = append(out, bot.AgentConfig{ID: actorID(user), Name: user, Supervisor: sup})
	}
	for _, m := range []struct {
		members Members
		sup     bool
	}{{o.Supervisors, true}, {o.Agents, false}} {
		for _, u := range m.members.Users {
			add(u, m.sup)
		}
		for _, g := range m.members.Groups {
			ids, err := api.GetUserGroupMembersContext(ctx, g)
			if err != nil {
				return nil, fmt.Errorf("slack: resolve agents: usergroups.users.list %s: %w", g, err)
			}
			for _, u := range ids {
				add(u, m.sup)
			}
		}
	}
	return out, nil
}
