// Package sla computes and enforces kefu's service-level promises: first response, next response
// and resolution targets per priority (optionally per category), on a business-hours calendar or
// 24x7, with pauses while a ticket waits on the customer; warnings before a deadline, breach pings
// repeated until acknowledged, escalation levels, and "still being handled" updates to customers.
//
// The package is pure except for Scanner, which talks to storage only through the small Store
// interface. It imports nothing of kefu's (Priority and Status mirror bot's strings), so bot,
// storage and cmd can all import it.
//
// Wiring (for the engine and storage):
//
//   - cmd: sla.New(cfg.SLA) → *Policy (Config.Validate joins every problem); sla.NewScanner(Options{
//     Store, Policy, Interval, Logger}) and run Scanner.Run(ctx) in the errgroup.
//   - engine, on every ticket change, in the same transaction: update the TicketClock with the pure
//     transitions (Opened, StatusChanged, PriorityChanged, CustomerMessage, AgentReply,
//     CustomerUpdated), write Policy.Due(clock) into first_response_due/resolution_due, bump
//     sla_version and set sla_next_at = Policy.Next(item, now). Write an EvSLA audit event for
//     priority changes/reopenings ("due times recomputed"), and stamp met/breached at the first
//     reply and at resolution from Deadline.Met().
//   - storage: storage.SLAStore (design notes in sql.go); MarkFired records sla_fired and the
//     notification's effects (EvSLA event with Notify.Text(), customer outbox row, stamps) in one
//     transaction. An acknowledgement sets sla_acked_at = now (and bumps sla_version).
//   - team side (Slack, CLI): follow EvSLA events; ParseNotify(ev.Text) gives kind, target, level,
//     audience.
package sla
