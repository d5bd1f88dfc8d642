// Package wxcrypt implements the callback signatures and message encryption that Tencent publishes
// for WeChat Official Accounts (公众号「消息加解密说明」) and WeCom (企业微信「加解密方案说明」):
//
//   - plain signature: hex(sha1(sort(token, timestamp, nonce) joined));
//   - msg_signature: hex(sha1(sort(token, timestamp, nonce, encrypt) joined));
//   - encryption: AESKey = base64(EncodingAESKey + "="), 32 bytes; the plaintext is
//     random(16) ‖ uint32 big-endian length ‖ message ‖ receive id (the AppID or CorpID), padded with
//     PKCS#7 to a multiple of 32 bytes and encrypted with AES-256-CBC, IV = AESKey[:16]; the
//     ciphertext travels base64-encoded.
//
// It is written here rather than taken from an SDK: the algorithm is ~100 lines of the standard
// library, the SDKs that carry it (silenceper/wechat, PowerWeChat) bring a hundred packages with them,
// and both adapters (wechat, wecom) need the same code with strict checks (padding, receive id,
// constant-time signature comparison). The tests check it against Tencent's published sample vectors
// and a vector derived independently with openssl.
package wxcrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// blockSize is the PKCS#7 block size the WeChat algorithm pads to (32, not AES's 16).
const blockSize = 32

// Errors a caller tells apart with errors.Is.
var (
	ErrBadKey       = errors.New("wxcrypt: EncodingAESKey must be 43 characters of base64")
	ErrBadSignature = errors.New("wxcrypt: signature mismatch")
	ErrBadCipher    = errors.New("wxcrypt: ciphertext is not valid")
	ErrReceiveID    = errors.New("wxcrypt: message is for another receive id")
)

// Signature is the hex SHA-1 of the sorted, concatenated parts (the plain signature takes token,
// timestamp and nonce; msg_signature adds the Encrypt value).
func Signature(parts ...string) string {
	s := append([]string(nil), parts...)
	sort.Strings(s)
	sum := sha1.Sum([]byte(strings.Join(s, "")))
	return hex.EncodeToString(sum[:])
}

// Verify reports whether got equals Signature(parts...), in constant time.
func Verify(got string, parts ...string) bool {
	want := Signature(parts...)
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) == 1
}

// Cipher encrypts and decrypts with one EncodingAESKey for one receive id.
type Cipher struct {
	block     cipher.Block
	iv        []byte
	receiveID string
}

// New checks the 43-character EncodingAESKey and returns a Cipher for receiveID (AppID or CorpID).
func New(encodingAESKey, receiveID string) (*Cipher, error) {
	if len(encodingAESKey) != 43 {
		return nil, ErrBadKey
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, ErrBadKey
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("wxcrypt: %w", err)
	}
	return &Cipher{block: block, iv: key[:16], receiveID: receiveID}, nil
}

// Encrypt returns base64(AES-256-CBC(random ‖ len ‖ msg ‖ receiveID)). random must be 16 bytes or
// nil (then it is read from crypto/rand); tests pass a fixed one to compare with known vectors.
func (c *Cipher) Encrypt(msg []byte, random []byte) (string, error) {
	if random == nil {
		random = make([]byte, 16)
		if _, err := io.ReadFull(rand.Reader, random); err != nil {
			return "", fmt.Errorf("wxcrypt: random: %w", err)
		}
	}
	if len(random) != 16 {
		return "", errors.New("wxcrypt: random prefix must be 16 bytes")
	}
	var buf bytes.Buffer
	buf.Write(random)
	_ = binary.Write(&buf, binary.BigEndian, uint32(len(msg)))
	buf.Write(msg)
	buf.WriteString(c.receiveID)
	pad := blockSize - buf.Len()%blockSize
	buf.Write(bytes.Repeat([]byte{byte(pad)}, pad))
	out := make([]byte, buf.Len())
	cipher.NewCBCEncrypter(c.block, c.iv).CryptBlocks(out, buf.Bytes())
	return base64.StdEncoding.EncodeToString(out), nil
}

// Decrypt reverses Encrypt and checks the padding and that the message is addressed to the
// Cipher's receive id. It never panics on hostile input.
func (c *Cipher) Decrypt(encrypted string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil || len(raw) == 0 || len(raw)%aes.BlockSize != 0 {
		return nil, ErrBadCipher
	}
	plain := make([]byte, len(raw))
	cipher.NewCBCDecrypter(c.block, c.iv).CryptBlocks(plain, raw)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > blockSize || pad > len(plain) {
		return nil, ErrBadCipher
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, ErrBadCipher
		}
	}
	plain = plain[:len(plain)-pad]
	if len(plain) < 20 {
		return nil, ErrBadCipher
	}
	n := binary.BigEndian.Uint32(plain[16:20])
	if uint64(n) > uint64(len(plain)-20) {
		return nil, ErrBadCipher
	}
	msg, rid := plain[20:20+n], plain[20+n:]
	if subtle.ConstantTimeCompare(rid, []byte(c.receiveID)) != 1 {
		return nil, ErrReceiveID
	}
	return msg, nil
}
