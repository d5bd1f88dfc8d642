package main

import (
	"github.com/kefu-dev/kefu/adapters/slack"
)

// newSlack builds the agents' side from the slack section of the config.
func newSlack(a *app) (*slack.App, error) {
	c := a.cfg.Slack
	routing := slack.Routing{
		Categories:  map[string]string{},
		Channels:    map[string]string{},
		Default:     c.DefaultChannel,
		Supervisors: c.SupervisorsChannel,
	}
	// Each routed category is its own team, named after the category.
	for category, channel := range c.Routes {
		routing.Categories[category] = category
		routing.Channels[category] = channel
	}
	if _, ok := c.Routes["complaint"]; ok {
		routing.ComplaintTeam = "complaint"
	}
	return slack.New(slack.Options{
		BotToken:      c.BotToken,
		SigningSecret: c.SigningSecret,
		AppToken:      c.AppToken,
		APIURL:        c.APIURL,
		Desk:          a.engine,
		Store:         a.db,
		Routing:       routing,
		Agents:        splitMembers(c.Agents),
		Supervisors:   splitMembers(c.Supervisors),
		AutoAssign:    c.AutoAssign,
		OnDuty:        c.OnDuty,
		Lang:          c.Lang,
		T:             a.cat.T,
		ConsoleURL:    a.cfg.PublicURL + "/console",
		Logger:        a.log,
	})
}

// splitMembers separates Slack user ids (U…, W…) from user-group ids (S…).
func splitMembers(ids []string) slack.Members {
	var m slack.Members
	for _, id := range ids {
		if len(id) > 0 && id[0] == 'S' {
			m.Groups = append(m.Groups, id)
		} else {
			m.Users = append(m.Users, id)
		}
	}
	return m
}
