package storage_test

import (
	"testing"

	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestStoreSemantics runs the conformance suite on SQLite always and on PostgreSQL when
// KEFU_TEST_POSTGRES_DSN is set.
func TestStoreSemantics(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) { storetest.Run(t, open) })
}
