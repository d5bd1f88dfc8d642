package console

// LivePolls is how many event queries the live feed's shared loop has made (tests).
func (c *Console) LivePolls() int64 {
	c.hub.mu.Lock()
	defer c.hub.mu.Unlock()
	return c.hub.polls
}

// LiveStreams is how many streams are connected (tests).
func (c *Console) LiveStreams() int {
	c.hub.mu.Lock()
	defer c.hub.mu.Unlock()
	return len(c.hub.subs)
}
