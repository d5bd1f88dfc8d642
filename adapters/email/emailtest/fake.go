// Package emailtest runs a real IMAP server (go-imap v2's imapserver with the in-memory backend
// imapmemserver) and a real SMTP server (go-smtp) on loopback for tests: mail a customer "sends" is
// appended to the support mailbox, mail kefu sends is captured after a full SMTP exchange with AUTH.
package emailtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The support mailbox's account (IMAP and SMTP) and address.
const (
	Username = "support@kefu.test"
	Password = "mailbox-password"
	Address  = "support@kefu.test"
)

// Mail is one message accepted by the SMTP server.
type Mail struct {
	From   string
	To     []string
	Raw    []byte
	Header mail.Header
	Body   string // the decoded text
}

// Server is the pair of servers.
type Server struct {
	IMAPAddr string
	SMTPAddr string

	user *imapmemserver.User
	mu   sync.Mutex
	sent []Mail
	// reject, if set, answers RCPT TO with an SMTP error (code, e.g. 550 or 451).
	reject func(to string) int
	got    chan struct{}
}

// New starts both servers on loopback; they stop when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(Username, Password)
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	is := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: true, // loopback only
		Logger:       discardLogger{},
	})
	iln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = is.Serve(iln) }()
	t.Cleanup(func() { _ = is.Close() })

	s := &Server{IMAPAddr: iln.Addr().String(), user: u, got: make(chan struct{}, 1024)}
	ss := smtp.NewServer(backend{s})
	ss.Domain = "kefu.test"
	ss.AllowInsecureAuth = true
	ss.ReadTimeout, ss.WriteTimeout = 10*time.Second, 10*time.Second
	sln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = ss.Serve(sln) }()
	t.Cleanup(func() { _ = ss.Close() })
	s.SMTPAddr = sln.Addr().String()
	return s
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// Deliver appends a raw message (CRLF line ends are added) to the support mailbox's INBOX.
func (s *Server) Deliver(raw string) error {
	b := []byte(strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\n", "\r\n"))
	_, err := s.user.Append("INBOX", literal{bytes.NewReader(b), int64(len(b))}, &imap.AppendOptions{Time: time.Now()})
	return err
}

type literal struct {
	*bytes.Reader
	n int64
}

func (l literal) Size() int64 { return l.n }

// Message builds a customer's mail. extra headers ("Key: value") come after the standard ones.
func Message(from, subject, messageID, body string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: <%s>\nMIME-Version: 1.0\n",
		from, Address, mimeWord(subject), time.Now().Format(time.RFC1123Z), messageID)
	for _, h := range extra {
		b.WriteString(h + "\n")
	}
	if !strings.Contains(strings.Join(extra, "\n"), "Content-Type:") {
		b.WriteString("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n")
	}
	b.WriteString("\n" + body)
	return b.String()
}

func mimeWord(s string) string {
	for _, r := range s {
		if r > 127 {
			return mimeQ(s)
		}
	}
	return s
}

func mimeQ(s string) string {
	var h mail.Header
	h.SetSubject(s)
	return h.Get("Subject")
}

// Reject makes RCPT TO answer code for matching recipients (nil: accept all).
func (s *Server) Reject(f func(to string) int) {
	s.mu.Lock()
	s.reject = f
	s.mu.Unlock()
}

// Sent returns the accepted messages in order.
func (s *Server) Sent() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.sent...)
}

// WaitSent waits until n messages were accepted.
func (s *Server) WaitSent(t testing.TB, n int, d time.Duration) []Mail {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if got := s.Sent(); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails sent within %v, want %d", len(s.Sent()), d, n)
		}
		select {
		case <-s.got:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// SeenFlags reports whether the message with uid carries \Seen (kefu marks what it handled).
func (s *Server) Unseen() int {
	st, err := s.user.Status("INBOX", &imap.StatusOptions{NumUnseen: true})
	if err != nil || st.NumUnseen == nil {
		return -1
	}
	return int(*st.NumUnseen)
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != Username || password != Password {
			return errors.New("invalid credentials")
		}
		x.authed = true
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if !x.authed {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	rej := x.s.reject
	x.s.mu.Unlock()
	if rej != nil {
		if code := rej(to); code != 0 {
			return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1}, Message: "recipient refused"}
		}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "not a message: " + err.Error()}
	}
	m := Mail{From: x.from, To: x.to, Raw: raw, Header: mr.Header}
	if p, err := mr.NextPart(); err == nil {
		b, _ := io.ReadAll(p.Body)
		m.Body = string(b)
	}
	x.s.mu.Lock()
	x.s.sent = append(x.s.sent, m)
	x.s.mu.Unlock()
	select {
	case x.s.got <- struct{}{}:
	default:
	}
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }
