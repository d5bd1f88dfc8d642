package sla

// Priority mirrors bot.Priority (the same strings). Package sla imports nothing of kefu's, so bot,
// storage and cmd can all import it: convert with sla.Priority(t.Priority).
type Priority string

const (
	P0 Priority = "P0" // 紧急
	P1 Priority = "P1" // 重要
	P2 Priority = "P2" // 一般
)

// Status mirrors bot.Status (the same strings): convert with sla.Status(t.Status).
type Status string

const (
	StatusOpen       Status = "open"
	StatusInProgress Status = "in_progress"
	StatusPending    Status = "pending" // waiting on the customer: the resolution clock pauses
	StatusResolved   Status = "resolved"
	StatusClosed     Status = "closed"
)
