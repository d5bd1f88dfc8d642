package slack

import "github.com/kefu-dev/kefu/pii"

// The masking rules live in package pii (one detector for every output path); these names remain for
// the adapter's callers.

// MaskName keeps the first character of a name: "张三" -> "张*".
func MaskName(name string) string { return pii.MaskName(name) }

// MaskPhone shows the first three and last four digits of a phone number: "138****5678".
func MaskPhone(phone string) string { return pii.MaskPhone(phone) }

// MaskText masks every phone number, ID number, e-mail address and bank card in free text before it
// reaches a team channel (use the ticket's bot.Ticket.Masker to mask the customer's name too).
func MaskText(s string) string { return pii.Text(s) }
