// Placeholder: the live inbox (server-sent events, collision notice, shortcuts) replaces this file.
