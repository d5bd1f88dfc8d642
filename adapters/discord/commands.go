package discord

import (
	"context"
	"errors"
	"strings"

	"github.com/bwmarrin/discordgo"
	"github.com/kefu-dev/kefu/bot"
)

// Commands are the slash commands kefu registers; each arrives as bot.KindCommand with Payload =
// the name and Text = the option values.
var Commands = []string{"status", "lang", "link", "help"}

// discordLocales maps kefu's languages to Discord's locales.
var discordLocales = map[string][]discordgo.Locale{
	"zh-CN": {discordgo.ChineseCN},
	"en":    {discordgo.EnglishUS, discordgo.EnglishGB},
}

// text returns the configured text for key in lang, else in the other language, else key.
func lookup(m map[string]map[string]string, lang, key string) string {
	if s := m[lang][key]; s != "" {
		return s
	}
	for _, l := range []string{"en", "zh-CN"} {
		if s := m[l][key]; s != "" {
			return s
		}
	}
	return key
}

func localized(m map[string]map[string]string, key string, limit int, lower bool) map[discordgo.Locale]string {
	out := map[discordgo.Locale]string{}
	for lang, locs := range discordLocales {
		s := m[lang][key]
		if s == "" {
			continue
		}
		if lower {
			s = strings.ToLower(s)
		}
		for _, l := range locs {
			out[l] = truncate(s, limit)
		}
	}
	return out
}

// applicationCommands builds the global command set: English defaults with zh-CN and en
// localizations taken from Options.CommandDescriptions and Options.CommandNames.
func (a *Adapter) applicationCommands() []*discordgo.ApplicationCommand {
	contexts := []discordgo.InteractionContextType{discordgo.InteractionContextGuild, discordgo.InteractionContextBotDM}
	option := func(cmd, name string, choices []*discordgo.ApplicationCommandOptionChoice) *discordgo.ApplicationCommandOption {
		key := cmd + "." + name
		return &discordgo.ApplicationCommandOption{
			Type:                     discordgo.ApplicationCommandOptionString,
			Name:                     name,
			Description:              truncate(lookup(a.descs, "en", key), 100),
			DescriptionLocalizations: localized(a.descs, key, 100, false),
			Choices:                  choices,
		}
	}
	var out []*discordgo.ApplicationCommand
	for _, name := range Commands {
		descs := localized(a.descs, name, 100, false)
		names := localized(a.names, name, 32, true)
		c := &discordgo.ApplicationCommand{
			Type:                     discordgo.ChatApplicationCommand,
			Name:                     name,
			Description:              truncate(lookup(a.descs, "en", name), 100),
			DescriptionLocalizations: &descs,
			Contexts:                 &contexts,
		}
		if len(names) > 0 {
			c.NameLocalizations = &names
		}
		switch name {
		case "lang":
			// Language names are autonyms, the same in every locale.
			c.Options = []*discordgo.ApplicationCommandOption{option(name, "language", []*discordgo.ApplicationCommandOptionChoice{
				{Name: "中文", Value: "zh-CN"},
				{Name: "English", Value: "en"},
			})}
		case "link":
			c.Options = []*discordgo.ApplicationCommandOption{option(name, "code", nil)}
		}
		out = append(out, c)
	}
	return out
}

// registerCommands overwrites the global slash commands. Failure is logged, not fatal: typed
// "/status" messages in DMs still work.
func (a *Adapter) registerCommands(ctx context.Context) {
	a.mu.Lock()
	appID := firstNonEmpty(a.appID, a.botID)
	a.mu.Unlock()
	if appID == "" {
		a.log.Warn("slash commands not registered: no application id")
		return
	}
	cmds := a.applicationCommands()
	for attempt := 0; attempt < 3; attempt++ {
		_, err := a.s.ApplicationCommandBulkOverwrite(appID, "", cmds, discordgo.WithContext(ctx))
		if err == nil {
			a.log.Info("slash commands registered", "count", len(cmds))
			return
		}
		err = mapErr("register commands", err)
		var rl *bot.RateLimitedError
		if !errors.As(err, &rl) || !bot.Sleep(ctx, rl.Wait) {
			a.log.Warn("slash commands not registered", "err", err)
			return
		}
	}
}
