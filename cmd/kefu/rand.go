package main

import (
	"crypto/rand"
	"encoding/base64"
)

// randomToken returns n random bytes, base64url-encoded (webhook secrets and the like).
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error()) // never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
