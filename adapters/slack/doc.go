// Package slack is kefu's team side on Slack: agents and supervisors work tickets from Block Kit cards,
// buttons, modals, `/kefu` slash commands and card threads.
//
// The package translates only. Every change goes through bot.Desk (which checks rights, writes the audit
// trail and relays replies to the customer through the outbox); cards follow the Desk's durable event feed
// (Desk.EventsAfter) with a cursor kept in Store, so a restart neither loses nor repeats a card update.
//
// Endpoints (App is an http.Handler): /slack/commands, /slack/interactions, /slack/events. Every request
// must carry a valid v0 signature made with the signing secret, no older than five minutes. With an
// app-level token the same handlers run over Socket Mode instead.
package slack
