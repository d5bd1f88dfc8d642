package discord

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// threadRef is a customer's private thread in the support channel.
type threadRef struct {
	id     string
	joined bool // the customer has been added as a member
}

// threadPrefix names kefu's threads "kefu-<customer user id>": the name finds a customer's thread
// again after a restart without storing anything, and shows no personal data to moderators.
const threadPrefix = "kefu-"

// maxNotOurs bounds the negative cache of guild channels that are not kefu threads.
const maxNotOurs = 10000

func threadName(userID string) string { return threadPrefix + userID }

// supportThread returns the customer's private thread in the support channel: from memory, else
// found among the active and archived threads by name (and unarchived), else created. The
// customer is added to it. Calls for one customer come from one worker, so threads are not
// created twice.
func (a *Adapter) supportThread(ctx context.Context, guildID, userID, userName string) (string, error) {
	a.mu.Lock()
	ref := a.threads[userID]
	a.mu.Unlock()
	if ref == nil {
		id, archived, err := a.findThread(ctx, guildID, userID)
		if err != nil {
			return "", err
		}
		if id != "" && archived {
			f := false
			if _, err := a.s.ChannelEditComplex(id, &discordgo.ChannelEdit{Archived: &f}, discordgo.WithContext(ctx)); err != nil {
				return "", mapErr("unarchive thread "+id, err)
			}
		}
		if id == "" {
			ch, err := a.s.ThreadStartComplex(a.support, &discordgo.ThreadStart{
				Name:                threadName(userID),
				AutoArchiveDuration: 10080, // a week
				Type:                discordgo.ChannelTypeGuildPrivateThread,
				Invitable:           false,
			}, discordgo.WithContext(ctx))
			if err != nil {
				return "", mapErr("create thread for "+userID, err)
			}
			id = ch.ID
			a.log.Info("support thread created", "chat_id", id)
		}
		ref = &threadRef{id: id}
		a.mu.Lock()
		a.threads[userID] = ref
		a.owners[id] = userID
		a.mu.Unlock()
	}
	a.mu.Lock()
	joined := ref.joined
	a.mu.Unlock()
	if !joined {
		if err := a.s.ThreadMemberAdd(ref.id, userID, discordgo.WithContext(ctx)); err != nil {
			return "", mapErr("add member to thread "+ref.id, err)
		}
		a.mu.Lock()
		ref.joined = true
		a.mu.Unlock()
	}
	return ref.id, nil
}

// findThread looks for the customer's thread among the guild's active threads and the private
// archived threads the bot has joined.
func (a *Adapter) findThread(ctx context.Context, guildID, userID string) (id string, archived bool, err error) {
	name := threadName(userID)
	if guildID != "" {
		list, err := a.s.GuildThreadsActive(guildID, discordgo.WithContext(ctx))
		if err != nil {
			return "", false, mapErr("list active threads", err)
		}
		for _, t := range list.Threads {
			if t != nil && t.ParentID == a.support && t.Name == name {
				return t.ID, false, nil
			}
		}
	}
	list, err := a.s.ThreadsPrivateJoinedArchived(a.support, nil, 100, discordgo.WithContext(ctx))
	if err != nil {
		var re *discordgo.RESTError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusForbidden {
			a.log.Warn("cannot list archived threads; creating a new one", "err", err)
			return "", false, nil
		}
		return "", false, mapErr("list archived threads", err)
	}
	for _, t := range list.Threads {
		if t != nil && t.ParentID == a.support && t.Name == name {
			return t.ID, true, nil
		}
	}
	return "", false, nil
}

// isCustomerThread reports whether channelID is the kefu thread of userID (messages from anyone
// else in a thread, e.g. a moderator, are not the customer's).
func (a *Adapter) isCustomerThread(ctx context.Context, channelID, userID string) (bool, error) {
	a.mu.Lock()
	owner, known := a.owners[channelID]
	not := a.notOurs[channelID]
	a.mu.Unlock()
	if known {
		return owner == userID, nil
	}
	if not {
		return false, nil
	}
	ch, err := a.s.State.Channel(channelID)
	if err != nil || ch == nil {
		ch, err = a.s.Channel(channelID, discordgo.WithContext(ctx))
	}
	if err != nil {
		var re *discordgo.RESTError
		if errors.As(err, &re) && re.Response != nil &&
			(re.Response.StatusCode == http.StatusForbidden || re.Response.StatusCode == http.StatusNotFound) {
			a.markNotOurs(channelID)
			return false, nil
		}
		return false, mapErr("look up channel "+channelID, err)
	}
	owner, ok := strings.CutPrefix(ch.Name, threadPrefix)
	if ch.ParentID != a.support || ch.Type != discordgo.ChannelTypeGuildPrivateThread || !ok || owner == "" {
		a.markNotOurs(channelID)
		return false, nil
	}
	a.mu.Lock()
	a.owners[ch.ID] = owner
	if a.threads[owner] == nil {
		a.threads[owner] = &threadRef{id: ch.ID, joined: true}
	}
	a.mu.Unlock()
	return owner == userID, nil
}

func (a *Adapter) markNotOurs(id string) {
	a.mu.Lock()
	if len(a.notOurs) >= maxNotOurs {
		clear(a.notOurs)
	}
	a.notOurs[id] = true
	a.mu.Unlock()
}
