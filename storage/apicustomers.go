package storage

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// CustomerSummary is a customer as the REST API lists them (unmasked here: the API masks).
type CustomerSummary struct {
	ID          int64
	Name        string // the customer's name, else the latest ticket's, else the latest platform display name
	Phone       string // the customer's phone, else the latest ticket's
	Lang        string
	Channels    []string // where the customer has written from
	Tickets     int
	OpenTickets int
	CreatedAt   time.Time
}

// Customers lists customers (not merged into another) with id > after, by id, at most limit.
func (db *DB) Customers(ctx context.Context, after int64, limit int) ([]CustomerSummary, error) {
	var cs []customer
	if err := db.gdb.WithContext(ctx).Where("merged_into IS NULL AND id > ?", after).Order("id").Limit(limit).Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("storage: customers: %w", err)
	}
	return db.summarize(ctx, cs)
}

// Customer returns one customer's summary, or bot.ErrNotFound (also for a merged one).
func (db *DB) Customer(ctx context.Context, id int64) (CustomerSummary, error) {
	var cs []customer
	if err := db.gdb.WithContext(ctx).Where("merged_into IS NULL AND id = ?", id).Find(&cs).Error; err != nil {
		return CustomerSummary{}, fmt.Errorf("storage: customer %d: %w", id, err)
	}
	if len(cs) == 0 {
		return CustomerSummary{}, bot.ErrNotFound
	}
	out, err := db.summarize(ctx, cs)
	if err != nil {
		return CustomerSummary{}, err
	}
	return out[0], nil
}

func (db *DB) summarize(ctx context.Context, cs []customer) ([]CustomerSummary, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(cs))
	out := make([]CustomerSummary, len(cs))
	at := map[int64]int{}
	for i, c := range cs {
		ids[i], at[c.ID] = c.ID, i
		out[i] = CustomerSummary{ID: c.ID, Name: c.Name, Phone: c.Phone, Lang: c.Lang, CreatedAt: c.CreatedAt.UTC()}
	}
	g := db.gdb.WithContext(ctx)
	var idents []identity
	if err := g.Select("customer_id", "channel", "user_name", "id").Where("customer_id IN ?", ids).Order("id").Find(&idents).Error; err != nil {
		return nil, fmt.Errorf("storage: customers: identities: %w", err)
	}
	for _, id := range idents {
		c := &out[at[id.CustomerID]]
		if !slices.Contains(c.Channels, id.Channel) {
			c.Channels = append(c.Channels, id.Channel)
		}
		if cs[at[id.CustomerID]].Name == "" && id.UserName != "" { // the latest display name wins
			c.Name = id.UserName
		}
	}
	var tks []ticket
	if err := g.Select("id", "customer_id", "status", "customer_name", "customer_phone").Where("customer_id IN ?", ids).Order("id").Find(&tks).Error; err != nil {
		return nil, fmt.Errorf("storage: customers: tickets: %w", err)
	}
	for _, t := range tks { // oldest first: the latest ticket's phone and name win
		c := &out[at[t.CustomerID]]
		c.Tickets++
		if slices.Contains(openStatuses, t.Status) {
			c.OpenTickets++
		}
		if cs[at[t.CustomerID]].Phone == "" && t.CustomerPhone != "" {
			c.Phone = t.CustomerPhone
		}
		if cs[at[t.CustomerID]].Name == "" && t.CustomerName != "" {
			c.Name = t.CustomerName
		}
	}
	for i := range out {
		slices.Sort(out[i].Channels)
	}
	return out, nil
}
