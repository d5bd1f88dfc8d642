package bot

// LocaleKeys are the locale keys the engine itself renders (flows renders the rest). The catalogs
// must define each in every language; bot's tests check locales.Default().
func LocaleKeys() []string {
	keys := []string{
		"ticket.opened", "ticket.list.header", "ticket.list.line", "ticket.list.empty", "ticket.show",
		"ticket.not_yours", "agent.reply", "error.internal", "faq.no_answer",
		"link.code", "link.done", "link.bad_code",
		"category.none",
	}
	for _, p := range []Priority{P0, P1, P2} {
		keys = append(keys, priorityKey(p))
	}
	for _, s := range []Status{StatusOpen, StatusInProgress, StatusPending, StatusResolved, StatusClosed} {
		keys = append(keys, statusKey(s))
	}
	return keys
}
