package storage

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Encryption at rest of personal data (个人信息保护法; issue 13).
//
// Every column that can hold personal data is sealed with AES-256-GCM before it reaches the database.
// Go's standard library is used on purpose: crypto/aes + crypto/cipher is a constant-time,
// hardware-accelerated (AES-NI/ARMv8) and FIPS-validated implementation maintained with the language,
// so kefu carries no third-party crypto; GCM authenticates, so a tampered or misplaced value fails
// instead of decrypting to garbage. A sealed value is text:
//
//	enc1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>
//
// The key id (8 hex digits derived from the key) says which key sealed it, so keys rotate: the key ring
// holds the current key (used to seal) and old keys (still readable); `kefu keys rotate` re-seals every
// value under the current key in batches while the server runs. The empty string stays empty. A value
// without the prefix is legacy plain text (written before encryption existed) and is read as is, until
// `kefu keys rotate` seals it.
//
// Equality lookups (a phone number, a platform user id) use a keyed hash column (HMAC-SHA-256), never
// the plain text: see Keyring.Hash and Keyring.Hashes.
//
// Keys come from KEFU_ENCRYPTION_KEY (base64 or hex of 32 random bytes; several separated by commas,
// the first one current) or from the file named by KEFU_ENCRYPTION_KEY_FILE (one key a line, the first
// current; '#' starts a comment). With neither, kefu uses the key file next to the SQLite database
// (data/kefu.key), creating it (mode 0600) on the first run. A database remembers which key it was
// sealed with: opening it with another key fails at start (ErrWrongKey). LOSING THE KEY LOSES THE
// DATA: back the key file up apart from the database.

const (
	// EnvEncryptionKey holds the key(s) inline.
	EnvEncryptionKey = "KEFU_ENCRYPTION_KEY"
	// EnvEncryptionKeyFile names the key file.
	EnvEncryptionKeyFile = "KEFU_ENCRYPTION_KEY_FILE"
	// KeyFileName is the zero-configuration key file next to the SQLite database.
	KeyFileName = "kefu.key"

	sealPrefix = "enc1:"
	keyIDLen   = 8
	keyBytes   = 32
)

// ErrWrongKey means the database was sealed with a key the key ring does not hold.
var ErrWrongKey = errors.New("encryption key does not match the database")

type dataKey struct {
	id   string
	aead cipher.AEAD
	mac  []byte
}

// Keyring holds the data-encryption keys. It is safe for concurrent use. A ring loaded from a file
// notices when the file changes (checked at most once a second), so a running server picks up the key
// `kefu keys rotate` adds.
type Keyring struct {
	plain   bool // PlaintextKeyringForBenchmarks
	mu      sync.RWMutex
	keys    []*dataKey // keys[0] seals
	byID    map[string]*dataKey
	file    string
	modTime time.Time
	checked time.Time
	log     *slog.Logger // the one warning about a key file others can read (reload)
	warned  bool
}

// chmodKeyFile tightens a key file (a variable for the test of a file kefu may not change).
var chmodKeyFile = os.Chmod

func newDataKey(master []byte) (*dataKey, error) {
	if len(master) != keyBytes {
		return nil, fmt.Errorf("an encryption key must be %d bytes, got %d", keyBytes, len(master))
	}
	// Independent subkeys for sealing and hashing (HKDF-SHA-256), and an id that reveals nothing.
	enc, err := hkdf.Key(sha256.New, master, nil, "kefu aes-256-gcm v1", 32)
	if err != nil {
		return nil, err
	}
	mac, err := hkdf.Key(sha256.New, master, nil, "kefu hmac-sha-256 v1", 32)
	if err != nil {
		return nil, err
	}
	idb, err := hkdf.Key(sha256.New, master, nil, "kefu key id v1", keyIDLen/2)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &dataKey{id: hex.EncodeToString(idb), aead: aead, mac: mac}, nil
}

// NewKeyring builds a ring from raw 32-byte keys; the first one seals.
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	r := &Keyring{}
	if err := r.set(keys); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Keyring) set(keys [][]byte) error {
	if len(keys) == 0 {
		return errors.New("storage: no encryption key")
	}
	ks := make([]*dataKey, 0, len(keys))
	by := map[string]*dataKey{}
	for i, k := range keys {
		dk, err := newDataKey(k)
		if err != nil {
			return fmt.Errorf("storage: encryption key %d: %w", i+1, err)
		}
		if _, dup := by[dk.id]; dup {
			continue
		}
		ks = append(ks, dk)
		by[dk.id] = dk
	}
	r.mu.Lock()
	r.keys, r.byID = ks, by
	r.mu.Unlock()
	return nil
}

// PlaintextKeyringForBenchmarks returns a ring that stores personal data IN PLAIN TEXT (hashes are
// still keyed): only for the benchmarks that measure what encryption costs. No configuration selects
// it.
func PlaintextKeyringForBenchmarks() *Keyring {
	k := make([]byte, keyBytes)
	rand.Read(k)
	r, _ := NewKeyring(k)
	r.plain = true
	return r
}

// GenerateKey returns a new random key, base64-encoded as the key file and KEFU_ENCRYPTION_KEY take it.
func GenerateKey() string {
	b := make([]byte, keyBytes)
	rand.Read(b) // never fails (crypto/rand panics rather than return short)
	return base64.StdEncoding.EncodeToString(b)
}

// ParseKeys reads keys written as base64 (standard or URL) or hex, separated by commas, spaces or
// newlines; '#' starts a comment that runs to the end of the line.
func ParseKeys(text string) ([][]byte, error) {
	var out [][]byte
	for _, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		for _, f := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' }) {
			k, err := decodeKey(f)
			if err != nil {
				return nil, err
			}
			out = append(out, k)
		}
	}
	return out, nil
}

func decodeKey(s string) ([]byte, error) {
	if len(s) == 2*keyBytes {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == keyBytes {
			return b, nil
		}
	}
	return nil, fmt.Errorf("storage: an encryption key must be %d random bytes in base64 or hex (make one with `kefu keys new`)", keyBytes)
}

// KeySource says where LoadKeyring finds keys; Key wins over File, File over DefaultFile.
type KeySource struct {
	Key         string // KEFU_ENCRYPTION_KEY
	File        string // KEFU_ENCRYPTION_KEY_FILE
	DefaultFile string // created on first use when Key and File are empty
	Logger      *slog.Logger
}

// KeySourceFromEnv reads KEFU_ENCRYPTION_KEY and KEFU_ENCRYPTION_KEY_FILE; defaultFile is used when
// neither is set.
func KeySourceFromEnv(getenv func(string) string, defaultFile string) KeySource {
	return KeySource{Key: strings.TrimSpace(getenv(EnvEncryptionKey)), File: strings.TrimSpace(getenv(EnvEncryptionKeyFile)), DefaultFile: defaultFile}
}

// LoadKeyring loads the keys of src. A key file that does not exist yet is created with a new key
// (mode 0600, its directory 0700) and the logger says so once.
func LoadKeyring(src KeySource) (*Keyring, error) {
	if src.Key != "" {
		keys, err := ParseKeys(src.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvEncryptionKey, err)
		}
		return NewKeyring(keys...)
	}
	file := src.File
	if file == "" {
		file = src.DefaultFile
	}
	if file == "" {
		return nil, fmt.Errorf("storage: no encryption key: set %s or %s", EnvEncryptionKey, EnvEncryptionKeyFile)
	}
	created, err := createKeyFile(file)
	if err != nil {
		return nil, err
	}
	if created && src.Logger != nil {
		src.Logger.Warn("created a new encryption key for personal data; back it up apart from the database (losing it loses the data)",
			"file", file)
	}
	r := &Keyring{file: file, log: src.Logger}
	if err := r.reload(true); err != nil {
		return nil, err
	}
	return r, nil
}

// createKeyFile writes a new key to path unless the file exists, atomically: several processes
// starting at once agree on one key (the first link wins; the others read it).
func createKeyFile(path string) (bool, error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("storage: key file %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("storage: key file %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, ".kefu.key.*")
	if err != nil {
		return false, fmt.Errorf("storage: key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	content := "# kefu encryption key (AES-256-GCM, personal data at rest). Back it up apart from the database:\n" +
		"# without it the encrypted data cannot be read. The first key seals; older keys below stay readable.\n" +
		GenerateKey() + "\n"
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return false, fmt.Errorf("storage: key file %s: %w", path, err)
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return false, fmt.Errorf("storage: key file %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, fmt.Errorf("storage: key file %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("storage: key file %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("storage: key file %s: %w", path, err)
	}
	return true, nil
}

// WriteKeyFile replaces path with keys (first current), atomically and with mode 0600.
func WriteKeyFile(path string, keys []string) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".kefu.key.*")
	if err != nil {
		return fmt.Errorf("storage: write key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	var b strings.Builder
	b.WriteString("# kefu encryption keys (AES-256-GCM, personal data at rest). Back them up apart from the database.\n")
	b.WriteString("# The first key seals; the others stay readable until `kefu keys rotate` finishes.\n")
	for _, k := range keys {
		b.WriteString(k + "\n")
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("storage: write key file %s: %w", path, err)
	}
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		return fmt.Errorf("storage: write key file %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("storage: write key file %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("storage: write key file %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("storage: write key file %s: %w", path, err)
	}
	return nil
}

// reload reads the key file again when it changed (force: always).
func (r *Keyring) reload(force bool) error {
	st, err := os.Stat(r.file)
	if err != nil {
		return fmt.Errorf("storage: key file %s: %w", r.file, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		// Tighten a key file others can read (e.g. copied in with a default umask). A file kefu may
		// not change — not its own, or on a read-only mount: a Docker Compose secret (a bind mount
		// keeping the host's owner and mode), a Kubernetes secret volume (0644 by default) — is the
		// provisioning system's to protect: kefu warns once and uses it rather than refuse to start.
		if err := chmodKeyFile(r.file, 0o600); err != nil {
			if !errors.Is(err, fs.ErrPermission) && !errors.Is(err, syscall.EROFS) {
				return fmt.Errorf("storage: key file %s is readable by others (%v) and cannot be restricted: %w", r.file, st.Mode().Perm(), err)
			}
			r.mu.Lock()
			warn := !r.warned && r.log != nil
			r.warned = true
			r.mu.Unlock()
			if warn {
				r.log.Warn("the encryption key file is readable by others and kefu may not restrict it; restrict it where it is provisioned (owner only)",
					"file", r.file, "mode", st.Mode().Perm().String(), "err", err)
			}
		}
	}
	r.mu.RLock()
	same := !force && st.ModTime().Equal(r.modTime)
	r.mu.RUnlock()
	if same {
		return nil
	}
	b, err := os.ReadFile(r.file)
	if err != nil {
		return fmt.Errorf("storage: key file %s: %w", r.file, err)
	}
	keys, err := ParseKeys(string(b))
	if err != nil {
		return fmt.Errorf("storage: key file %s: %w", r.file, err)
	}
	if err := r.set(keys); err != nil {
		return fmt.Errorf("storage: key file %s: %w", r.file, err)
	}
	r.mu.Lock()
	r.modTime = st.ModTime()
	r.mu.Unlock()
	return nil
}

// Reload reads the key file again now (a no-op for keys given inline).
func (r *Keyring) Reload() error {
	if r.file == "" {
		return nil
	}
	return r.reload(true)
}

// Fresh re-reads the key file if it changed since it was read (whatever the once-a-second refresh
// says): a lookup that found nothing asks before it concludes that nothing is there, since a rotation
// may have re-hashed the row under a key this process has not read yet.
func (r *Keyring) Fresh() {
	if r.file != "" {
		_ = r.reload(false)
	}
}

// KeyRefresh is how long a running process may keep sealing with a key after the key file changed.
const KeyRefresh = time.Second

// refresh re-reads a key file at most once a KeyRefresh.
func (r *Keyring) refresh() {
	if r.file == "" {
		return
	}
	now := time.Now()
	r.mu.RLock()
	fresh := now.Sub(r.checked) < KeyRefresh
	r.mu.RUnlock()
	if fresh {
		return
	}
	r.mu.Lock()
	r.checked = now
	r.mu.Unlock()
	_ = r.reload(false) // a vanished or broken file keeps the keys in memory
}

// File is the key file the ring was loaded from ("" for keys given inline).
func (r *Keyring) File() string { return r.file }

// CurrentID is the id of the key that seals.
func (r *Keyring) CurrentID() string {
	r.refresh()
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keys[0].id
}

// IDs lists the ids of all keys, the current one first.
func (r *Keyring) IDs() []string {
	r.refresh()
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, len(r.keys))
	for i, k := range r.keys {
		out[i] = k.id
	}
	return out
}

// Seal encrypts s under the current key; "" stays "".
func (r *Keyring) Seal(s string) string {
	if s == "" || r.plain {
		return s
	}
	r.refresh()
	r.mu.RLock()
	k := r.keys[0]
	r.mu.RUnlock()
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(s)+k.aead.Overhead())
	rand.Read(nonce)
	ct := k.aead.Seal(nonce, nonce, []byte(s), nil)
	var b strings.Builder
	b.Grow(len(sealPrefix) + keyIDLen + 1 + base64.RawStdEncoding.EncodedLen(len(ct)))
	b.WriteString(sealPrefix)
	b.WriteString(k.id)
	b.WriteByte(':')
	b.WriteString(base64.RawStdEncoding.EncodeToString(ct))
	return b.String()
}

// IsSealed reports whether v is a sealed value (of any key).
func IsSealed(v string) bool {
	return len(v) > len(sealPrefix)+keyIDLen+1 && strings.HasPrefix(v, sealPrefix) && v[len(sealPrefix)+keyIDLen] == ':'
}

// SealedWith returns the key id of a sealed value ("" for plain text).
func SealedWith(v string) string {
	if !IsSealed(v) {
		return ""
	}
	return v[len(sealPrefix) : len(sealPrefix)+keyIDLen]
}

// Open decrypts a value sealed by Seal. Plain text (no prefix) is returned as is. A sealed value of an
// unknown key or one that fails authentication is an error wrapping ErrWrongKey.
func (r *Keyring) Open(v string) (string, error) {
	if !IsSealed(v) {
		return v, nil
	}
	id := SealedWith(v)
	r.mu.RLock()
	k := r.byID[id]
	r.mu.RUnlock()
	if k == nil && r.file != "" {
		_ = r.reload(true) // a key `kefu keys rotate` just added
		r.mu.RLock()
		k = r.byID[id]
		r.mu.RUnlock()
	}
	if k == nil {
		return "", fmt.Errorf("storage: value sealed with key %s, which is not configured: %w", id, ErrWrongKey)
	}
	ct, err := base64.RawStdEncoding.DecodeString(v[len(sealPrefix)+keyIDLen+1:])
	if err != nil || len(ct) < k.aead.NonceSize()+k.aead.Overhead() {
		return "", fmt.Errorf("storage: sealed value is damaged: %w", ErrWrongKey)
	}
	n := k.aead.NonceSize()
	pt, err := k.aead.Open(nil, ct[:n], ct[n:], nil)
	if err != nil {
		return "", fmt.Errorf("storage: sealed value fails authentication (key %s): %w", id, ErrWrongKey)
	}
	return string(pt), nil
}

// Hash is the keyed hash (HMAC-SHA-256, 128 bits in hex) of a normalized value under the current
// key, for equality lookups; "" hashes to "".
func (r *Keyring) Hash(v string) string {
	v = normalizeForHash(v)
	if v == "" {
		return ""
	}
	r.refresh()
	r.mu.RLock()
	k := r.keys[0]
	r.mu.RUnlock()
	return hashWith(k, v)
}

// Hashes returns the hash of v under every key, the current one first: a lookup matches rows hashed
// before or during a rotation.
func (r *Keyring) Hashes(v string) []string {
	v = normalizeForHash(v)
	if v == "" {
		return nil
	}
	r.refresh()
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, len(r.keys))
	for i, k := range r.keys {
		out[i] = hashWith(k, v)
	}
	return out
}

func hashWith(k *dataKey, v string) string {
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// normalizeForHash makes equal identifiers hash equally: trimmed, and a phone number's separators and
// +86 prefix dropped.
func normalizeForHash(v string) string {
	v = strings.TrimSpace(v)
	if p := NormalizePhone(v); p != "" {
		return p
	}
	return v
}

// NormalizePhone returns the digits of a Chinese phone number without separators or the +86/0086
// country code, or "" when v is not written like a phone number.
func NormalizePhone(v string) string {
	var b strings.Builder
	for i, c := range v {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == '+' && i == 0, c == ' ', c == '-', c == '(', c == ')':
		default:
			return ""
		}
	}
	d := b.String()
	if strings.HasPrefix(d, "0086") {
		d = d[4:]
	} else if strings.HasPrefix(v, "+86") || strings.HasPrefix(v, "+ 86") {
		d = d[2:]
	}
	if len(d) < 7 || len(d) > 13 {
		return ""
	}
	return d
}
