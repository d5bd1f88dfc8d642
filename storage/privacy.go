package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/kefu-dev/kefu/bot"
)

// Keeping personal data only as long as needed (个人信息保护法, issue 13): the retention run
// (PurgePersonalData) and a customer's rights of access (ExportCustomer) and deletion (EraseCustomer).
// Anonymizing a ticket blanks its personal fields and the texts of its trail but keeps every number
// the reports read (times, statuses, priorities, categories, assignees, ratings), so reports on old
// periods keep their numbers.

// PrivacyRetention says how long personal data is kept. Zero values take the defaults.
type PrivacyRetention struct {
	// Messages: the transcript (messages), FAQ questions, unanswered questions and conversation state
	// older than this are deleted or blanked (default 180 days).
	Messages time.Duration
	// ClosedTickets: tickets closed longer ago than this are anonymized, and customers with no newer
	// activity lose their names, phone numbers and platform identities (default 3 years).
	ClosedTickets time.Duration
}

func (r PrivacyRetention) withDefaults() PrivacyRetention {
	if r.Messages <= 0 {
		r.Messages = 180 * 24 * time.Hour
	}
	if r.ClosedTickets <= 0 {
		r.ClosedTickets = 3 * 365 * 24 * time.Hour
	}
	return r
}

// PurgeStats counts what a retention run removed.
type PurgeStats struct {
	Messages, Questions, Conversations, Tickets, Customers int64
	Files                                                  int64 // stored attachment files (blobs.go)
}

const (
	privacyRunKey = "privacy:retention:last"
	purgeBatch    = 500
)

// PurgePersonalData runs the personal-data retention unless some process ran it less than every ago
// (one conditional UPDATE of a kv row claims the run: exactly one process per period, however many
// share the database). Work is done in batches of purgeBatch rows, each its own transaction, so the
// server is never stalled. The run is recorded in the audit log.
func (db *DB) PurgePersonalData(ctx context.Context, now time.Time, every time.Duration, r PrivacyRetention) (ran bool, st PurgeStats, err error) {
	r = r.withDefaults()
	now = now.UTC()
	g := db.gdb.WithContext(ctx)
	if err := g.Clauses(clause.OnConflict{DoNothing: true}).Create(&kvRow{Key: privacyRunKey, Value: "", UpdatedAt: now}).Error; err != nil {
		return false, st, fmt.Errorf("storage: privacy retention: %w", err)
	}
	res := g.Model(&kvRow{}).Where("key = ? AND (value = '' OR updated_at <= ?)", privacyRunKey, now.Add(-every)).
		Updates(map[string]any{"value": "ran", "updated_at": now})
	if res.Error != nil {
		return false, st, fmt.Errorf("storage: privacy retention: claim the run: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return false, st, nil
	}
	msgBefore, tktBefore := now.Add(-r.Messages), now.Add(-r.ClosedTickets)
	batches := func(n *int64, q string, args ...any) error {
		for {
			res := g.Exec(q, append(args, purgeBatch)...)
			if res.Error != nil {
				return res.Error
			}
			*n += res.RowsAffected
			if res.RowsAffected < purgeBatch {
				return nil
			}
		}
	}
	if err := batches(&st.Messages, `DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE at < ? LIMIT ?)`, msgBefore); err != nil {
		return true, st, fmt.Errorf("storage: privacy retention: messages: %w", err)
	}
	var retries int64 // finished download retries of purged messages (their rows name a message id only)
	if err := batches(&retries, `DELETE FROM media_retries WHERE id IN (SELECT r.id FROM media_retries r WHERE r.created_at < ?
 AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = r.message_id) LIMIT ?)`, msgBefore); err != nil {
		return true, st, fmt.Errorf("storage: privacy retention: media retries: %w", err)
	}
	if err := batches(&st.Questions, `DELETE FROM unanswered_questions WHERE id IN (SELECT id FROM unanswered_questions WHERE at < ? LIMIT ?)`, msgBefore); err != nil {
		return true, st, fmt.Errorf("storage: privacy retention: unanswered questions: %w", err)
	}
	// FAQ citations stay for the statistics; only the customer's words go.
	var q int64
	if err := batches(&q, `UPDATE faq_citations SET query = '' WHERE id IN (SELECT id FROM faq_citations WHERE at < ? AND query <> '' LIMIT ?)`, msgBefore); err != nil {
		return true, st, fmt.Errorf("storage: privacy retention: faq citations: %w", err)
	}
	st.Questions += q
	if err := batches(&st.Conversations, `UPDATE conversations SET session = '', state = '' WHERE id IN
(SELECT id FROM conversations WHERE updated_at < ? AND session <> '' LIMIT ?)`, msgBefore); err != nil {
		return true, st, fmt.Errorf("storage: privacy retention: conversations: %w", err)
	}
	// A customer's reference to a stored file (blobs.go) lasts as long as whatever names it may (a
	// message, or a closed ticket): until the later horizon after it was made, and longer while the
	// customer still has an open ticket. A pending reference never claimed goes after its grace. A
	// file goes once no reference is left (and it was not stored again meanwhile: PutBlob renews
	// created_at), so a file another customer sent since stays.
	blobBefore := msgBefore
	if tktBefore.Before(blobBefore) {
		blobBefore = tktBefore
	}
	var refs int64
	if err := batches(&refs, `DELETE FROM blob_refs WHERE id IN (SELECT r.id FROM blob_refs r WHERE (r.customer_id = 0 AND r.created_at < ?)
 OR (r.customer_id <> 0 AND r.created_at < ? AND NOT EXISTS
  (SELECT 1 FROM tickets t WHERE t.customer_id = r.customer_id AND t.closed_at IS NULL AND t.anonymized_at IS NULL)) LIMIT ?)`,
		now.Add(-pendingRefGrace), blobBefore); err != nil {
		return true, st, fmt.Errorf("storage: privacy retention: file references: %w", err)
	}
	if err := batches(&st.Files, `DELETE FROM attachment_blobs WHERE id IN (SELECT b.id FROM attachment_blobs b WHERE b.created_at < ?
 AND NOT EXISTS (SELECT 1 FROM blob_refs r WHERE r.blob_id = b.id) LIMIT ?)`, now.Add(-pendingRefGrace)); err != nil {
		return true, st, fmt.Errorf("storage: privacy retention: files: %w", err)
	}
	for {
		var ids []int64
		if err := g.Raw(`SELECT id FROM tickets WHERE closed_at IS NOT NULL AND closed_at < ? AND anonymized_at IS NULL ORDER BY id LIMIT ?`,
			tktBefore, purgeBatch).Scan(&ids).Error; err != nil {
			return true, st, fmt.Errorf("storage: privacy retention: tickets: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		if err := g.Transaction(func(tx *gorm.DB) error { return anonymizeTickets(tx, ids, now) }); err != nil {
			return true, st, fmt.Errorf("storage: privacy retention: tickets: %w", err)
		}
		st.Tickets += int64(len(ids))
	}
	// Customers with nothing newer than the ticket horizon and no ticket left with personal data.
	for {
		var ids []int64
		if err := g.Raw(`SELECT cu.id FROM customers cu WHERE cu.updated_at < ? AND (cu.name <> '' OR cu.phone <> '' OR cu.contact_name <> '' OR cu.email <> ''
  OR EXISTS (SELECT 1 FROM identities i WHERE i.customer_id = cu.id))
  AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.customer_id = cu.id AND c.updated_at >= ?)
  AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = cu.id AND t.anonymized_at IS NULL)
ORDER BY cu.id LIMIT ?`, tktBefore, tktBefore, purgeBatch).Scan(&ids).Error; err != nil {
			return true, st, fmt.Errorf("storage: privacy retention: customers: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		if err := g.Transaction(func(tx *gorm.DB) error { return anonymizeCustomers(tx, ids, now) }); err != nil {
			return true, st, fmt.Errorf("storage: privacy retention: customers: %w", err)
		}
		st.Customers += int64(len(ids))
	}
	if st == (PurgeStats{}) {
		return true, st, nil // nothing was due: nothing to audit
	}
	detail := fmt.Sprintf("messages=%d questions=%d conversations=%d tickets=%d customers=%d files=%d", st.Messages, st.Questions, st.Conversations, st.Tickets, st.Customers, st.Files)
	if err := db.LogAccess(ctx, Access{At: now, Actor: "system", Action: AccessPurge, Via: "scheduler", Detail: detail}); err != nil {
		return true, st, err
	}
	db.log.InfoContext(ctx, "personal data retention run", "messages", st.Messages, "questions", st.Questions,
		"conversations", st.Conversations, "tickets", st.Tickets, "customers", st.Customers)
	return true, st, nil
}

// anonymizeTickets blanks the personal data of tickets and of everything attached to them, keeping
// what reports count.
func anonymizeTickets(tx *gorm.DB, ids []int64, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	plain := []string{}
	for k := range plainEventKinds {
		plain = append(plain, string(k))
	}
	for _, s := range []struct {
		q    string
		args []any
	}{
		{`UPDATE tickets SET customer_name = '', customer_phone = '', customer_phone_hash = '', summary = '', description = '',
 rating_comment = '', attachments = '', anonymized_at = ? WHERE id IN ?`, []any{now, ids}},
		{`UPDATE ticket_events SET text = '', attachments = '' WHERE ticket_id IN ? AND kind NOT IN ?`, []any{ids, plain}},
		{`UPDATE ticket_events SET attachments = '' WHERE ticket_id IN ?`, []any{ids}},
		{`UPDATE surveys SET comment = '' WHERE ticket_id IN ?`, []any{ids}},
		{`UPDATE complaint_details SET verification = '' WHERE ticket_id IN ?`, []any{ids}},
		{`UPDATE proposals SET reason = '' WHERE ticket_id IN ?`, []any{ids}},
		{`UPDATE return_visits SET note = '' WHERE ticket_id IN ?`, []any{ids}},
		{`UPDATE ticket_tasks SET note = '' WHERE ticket_id IN ?`, []any{ids}},
		// A draft FAQ entry not yet published goes (a published one is reviewed library text).
		{`DELETE FROM faq_drafts WHERE status <> 'published' AND ticket_no IN (SELECT no FROM tickets WHERE id IN ?)`, []any{ids}},
	} {
		if err := tx.Exec(s.q, s.args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// anonymizeCustomers removes customers' names, phone numbers and platform identities, their
// conversations' state and transcripts, and the routing addresses of their chats.
func anonymizeCustomers(tx *gorm.DB, ids []int64, now time.Time) error {
	var convs []int64
	if err := tx.Raw("SELECT id FROM conversations WHERE customer_id IN ?", ids).Scan(&convs).Error; err != nil {
		return err
	}
	stmts := []struct {
		q    string
		args []any
	}{
		{`UPDATE customers SET name = '', phone = '', phone_hash = '', contact_name = '', email = '', email_hash = '', intake_asked = '', updated_at = ? WHERE id IN ?`, []any{now, ids}},
		{`DELETE FROM identities WHERE customer_id IN ?`, []any{ids}},
		{`DELETE FROM link_codes WHERE customer_id IN ?`, []any{ids}},
		{`DELETE FROM blob_refs WHERE customer_id IN ?`, []any{ids}}, // their files go at the next retention run unless shared
	}
	if len(convs) > 0 {
		stmts = append(stmts,
			struct {
				q    string
				args []any
			}{`DELETE FROM media_retries WHERE message_id IN (SELECT id FROM messages WHERE conversation_id IN ?)`, []any{convs}},
			struct {
				q    string
				args []any
			}{`DELETE FROM messages WHERE conversation_id IN ?`, []any{convs}},
			struct {
				q    string
				args []any
			}{`DELETE FROM outbox WHERE conversation_id IN ?`, []any{convs}},
			struct {
				q    string
				args []any
			}{`DELETE FROM unanswered_questions WHERE conversation_id IN ?`, []any{convs}},
			struct {
				q    string
				args []any
			}{`UPDATE faq_citations SET query = '' WHERE conversation_id IN ?`, []any{convs}},
			// The chat id is the platform's address of the customer (a Telegram user, a WeChat openid,
			// a mailbox): replaced by a placeholder that keeps (channel, chat_id) unique.
			struct {
				q    string
				args []any
			}{`UPDATE conversations SET session = '', state = '', chat_id = 'erased:' || CAST(id AS TEXT) WHERE id IN ?`, []any{convs}},
		)
	}
	for _, s := range stmts {
		if err := tx.Exec(s.q, s.args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// CustomerIDs finds customers by id ("123"), by phone number (any notation; matched by its keyed
// hash on customers and tickets) or by the e-mail address given at intake.
func (db *DB) CustomerIDs(ctx context.Context, idOrPhone string) ([]int64, error) {
	if n, err := strconv.ParseInt(idOrPhone, 10, 64); err == nil && len(idOrPhone) < 7 {
		var c int64
		if err := db.gdb.WithContext(ctx).Model(&customer{}).Where("id = ?", n).Count(&c).Error; err != nil {
			return nil, fmt.Errorf("storage: customer %d: %w", n, err)
		}
		if c == 0 {
			return nil, nil
		}
		return []int64{n}, nil
	}
	hs := db.keys.Hashes(idOrPhone)
	if len(hs) == 0 {
		return nil, nil
	}
	var ids []int64
	if strings.Contains(idOrPhone, "@") { // an e-mail address given at intake (stored lower-cased)
		hs = db.keys.Hashes(strings.ToLower(strings.TrimSpace(idOrPhone)))
		if err := db.gdb.WithContext(ctx).Raw(`SELECT id FROM customers WHERE email_hash IN ? ORDER BY 1`, hs).Scan(&ids).Error; err != nil {
			return nil, fmt.Errorf("storage: customers by e-mail: %w", err)
		}
		return ids, nil
	}
	err := db.gdb.WithContext(ctx).Raw(`SELECT id FROM customers WHERE phone_hash IN ? UNION
SELECT customer_id FROM tickets WHERE customer_phone_hash IN ? ORDER BY 1`, hs, hs).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("storage: customers by phone: %w", err)
	}
	return ids, nil
}

// CustomerData is everything kefu holds about a customer (the right of access).
type CustomerData struct {
	Customer struct {
		ID    int64  `json:"id"`
		Name  string `json:"name"`
		Phone string `json:"phone"`
		// Given at intake (kefu's intake fields).
		ContactName string    `json:"contact_name,omitempty"`
		Email       string    `json:"email,omitempty"`
		Lang        string    `json:"lang"`
		CreatedAt   time.Time `json:"created_at"`
	} `json:"customer"`
	Identities []struct {
		Channel  string `json:"channel"`
		UserID   string `json:"user_id"`
		UserName string `json:"user_name"`
	} `json:"identities"`
	Conversations []CustomerConversation `json:"conversations"`
	Tickets       []CustomerTicket       `json:"tickets"`
}

// CustomerConversation is one conversation with its transcript.
type CustomerConversation struct {
	ID       int64     `json:"id"`
	Channel  string    `json:"channel"`
	Started  time.Time `json:"started"`
	Messages []Message `json:"messages"`
}

// CustomerTicket is one ticket with its trail (internal notes left out: they are the team's, not
// the customer's data) and survey comments.
type CustomerTicket struct {
	No          string          `json:"no"`
	Status      string          `json:"status"`
	Category    string          `json:"category"`
	CreatedAt   time.Time       `json:"created_at"`
	Name        string          `json:"customer_name"`
	Phone       string          `json:"customer_phone"`
	Summary     string          `json:"summary"`
	Description string          `json:"description"`
	Rating      int             `json:"rating,omitempty"`
	Comment     string          `json:"rating_comment,omitempty"`
	Events      []CustomerEvent `json:"events"`
}

// CustomerEvent is one event of a ticket's trail.
type CustomerEvent struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	Text string    `json:"text,omitempty"`
}

// ExportCustomer returns everything about customer id (ErrNotFound: no such customer).
func (db *DB) ExportCustomer(ctx context.Context, id int64) (CustomerData, error) {
	var out CustomerData
	g := db.gdb.WithContext(ctx)
	var c customer
	if err := g.Where("id = ?", id).Take(&c).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return out, fmt.Errorf("storage: customer %d: %w", id, bot.ErrNotFound)
		}
		return out, fmt.Errorf("storage: customer %d: %w", id, err)
	}
	out.Customer.ID, out.Customer.Name, out.Customer.Phone, out.Customer.Lang, out.Customer.CreatedAt = c.ID, c.Name, c.Phone, c.Lang, c.CreatedAt.UTC()
	out.Customer.ContactName, out.Customer.Email = c.ContactName, c.Email
	var ids []identity
	if err := g.Where("customer_id = ?", id).Order("id").Find(&ids).Error; err != nil {
		return out, fmt.Errorf("storage: customer %d: identities: %w", id, err)
	}
	for _, i := range ids {
		out.Identities = append(out.Identities, struct {
			Channel  string `json:"channel"`
			UserID   string `json:"user_id"`
			UserName string `json:"user_name"`
		}{i.Channel, i.PlatformUserID, i.UserName})
	}
	var convs []conversation
	if err := g.Where("customer_id = ?", id).Order("id").Find(&convs).Error; err != nil {
		return out, fmt.Errorf("storage: customer %d: conversations: %w", id, err)
	}
	for _, cv := range convs {
		ms, err := db.Transcript(ctx, cv.ID)
		if err != nil {
			return out, err
		}
		out.Conversations = append(out.Conversations, CustomerConversation{ID: cv.ID, Channel: cv.Channel, Started: cv.CreatedAt.UTC(), Messages: ms})
	}
	var ts []ticket
	if err := g.Where("customer_id = ?", id).Order("id").Find(&ts).Error; err != nil {
		return out, fmt.Errorf("storage: customer %d: tickets: %w", id, err)
	}
	for _, t := range ts {
		evs, err := db.TicketEvents(ctx, t.ID)
		if err != nil {
			return out, err
		}
		ct := CustomerTicket{No: t.No, Status: t.Status, Category: t.Category, CreatedAt: t.CreatedAt.UTC(), Name: t.CustomerName,
			Phone: t.CustomerPhone, Summary: t.Summary, Description: t.Description, Rating: t.Rating, Comment: t.RatingComment}
		for _, e := range evs {
			if e.Internal {
				continue
			}
			ct.Events = append(ct.Events, CustomerEvent{At: e.At, Kind: string(e.Kind), Text: e.Text})
		}
		out.Tickets = append(out.Tickets, ct)
	}
	return out, nil
}

// EraseCustomer removes customer id's personal data from every table now (the right to deletion):
// transcripts, outbox rows and platform identities are deleted, tickets are kept as anonymous
// statistics. It reports how many tickets were anonymized.
func (db *DB) EraseCustomer(ctx context.Context, id int64, now time.Time) (int, error) {
	var tickets []int64
	err := db.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&customer{}).Where("id = ?", id).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return bot.ErrNotFound
		}
		if err := tx.Raw("SELECT id FROM tickets WHERE customer_id = ?", id).Scan(&tickets).Error; err != nil {
			return err
		}
		if err := deleteCustomerBlobs(tx, id, db.dialect == Postgres, time.Now().UTC()); err != nil {
			return err
		}
		if err := anonymizeTickets(tx, tickets, now.UTC()); err != nil {
			return err
		}
		var webChats []string
		if err := tx.Raw("SELECT chat_id FROM conversations WHERE customer_id = ? AND channel = 'web'", id).Scan(&webChats).Error; err != nil {
			return err
		}
		if len(webChats) > 0 {
			if err := tx.Exec("DELETE FROM web_sessions WHERE id IN ?", webChats).Error; err != nil {
				return err
			}
		}
		return anonymizeCustomers(tx, []int64{id}, now.UTC())
	})
	if err != nil {
		return 0, fmt.Errorf("storage: erase customer %d: %w", id, err)
	}
	return len(tickets), nil
}

// MarshalCustomerData renders an export as indented JSON.
func MarshalCustomerData(d CustomerData) ([]byte, error) { return json.MarshalIndent(d, "", "  ") }
