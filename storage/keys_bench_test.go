package storage_test

import (
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/storage"
)

// BenchmarkSealOpen: the cost of sealing and opening one value (a chat message, a long description).
func BenchmarkSealOpen(b *testing.B) {
	keys, _ := storage.ParseKeys(storage.GenerateKey())
	r, _ := storage.NewKeyring(keys...)
	for _, n := range []int{60, 1000} {
		text := strings.Repeat("我的电话13812345678", n/10+1)[:n]
		b.Run("seal"+map[int]string{60: "-60B", 1000: "-1KB"}[n], func(b *testing.B) {
			for b.Loop() {
				r.Seal(text)
			}
		})
		sealed := r.Seal(text)
		b.Run("open"+map[int]string{60: "-60B", 1000: "-1KB"}[n], func(b *testing.B) {
			for b.Loop() {
				if _, err := r.Open(sealed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
