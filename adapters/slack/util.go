package slack

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// seenSet remembers the last n keys (Events API event ids, channel/ts pairs) so that a delivery Slack
// retries is handled once. Durable deduplication of replies is the Desk's job; this only stops the
// common retry storm after a slow acknowledgement.
type seenSet struct {
	mu    sync.Mutex
	n     int
	order []string
	set   map[string]struct{}
}

func newSeenSet(n int) *seenSet { return &seenSet{n: n, set: make(map[string]struct{}, n)} }

// add reports whether key is new, and remembers it.
func (s *seenSet) add(key string) bool {
	if key == "" {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.set[key]; ok {
		return false
	}
	s.set[key] = struct{}{}
	s.order = append(s.order, key)
	if len(s.order) > s.n {
		delete(s.set, s.order[0])
		s.order = s.order[1:]
	}
	return true
}

func formatArgs(args map[string]any) string {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, args[k])
	}
	return strings.Join(parts, " ")
}

// escape makes customer text inert in Slack mrkdwn: no mentions, no <!channel>, no links.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escape(s string) string { return escaper.Replace(s) }

// unescape turns an agent's Slack text back into plain text for the customer.
var unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

func unescape(s string) string { return unescaper.Replace(s) }

// truncate cuts s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
