package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// LastInbound is when the customer of a conversation last wrote (their newest stored inbound
// message); ok is false when they never did. WeChat's and WeCom's 48-hour reply windows run from it
// (bot.ReplyWindow). One backward step on the messages_conversation index.
func (db *DB) LastInbound(ctx context.Context, conversationID int64) (at time.Time, ok bool, err error) {
	return db.r(ctx).LastInbound(ctx, conversationID)
}

// LastInbound implements bot.Reader (inside a transaction too: the desk checks the reply window
// before it enqueues a reply).
func (r reader) LastInbound(ctx context.Context, conversationID int64) (at time.Time, ok bool, err error) {
	var m message
	err = r.g.WithContext(ctx).Select("at").Where("conversation_id = ? AND direction = ?", conversationID, "in").
		Order("id DESC").Limit(1).Take(&m).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, fmt.Errorf("storage: last inbound of conversation %d: %w", conversationID, err)
	}
	return m.At.UTC(), true, nil
}
