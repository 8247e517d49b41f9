package cli

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"unicode"

	"github.com/billharness/billharness/internal/billing"
)

// Environment variables shared by every command that talks to the billing API.
const (
	EnvAPIURL             = "BILLING_API_URL"
	EnvToken              = "BILLING_TOKEN"
	EnvTokenFile          = "BILLING_TOKEN_FILE"
	EnvInsecureSkipVerify = "BILLING_INSECURE_SKIP_VERIFY"
)

// ErrNoToken means neither a token file nor BILLING_TOKEN was given.
var ErrNoToken = errors.New("no API token: set " + EnvToken + ", or -token-file (" + EnvTokenFile + ")")

// API holds how a command reaches the billing API. The token itself is never
// a flag, which would show in /proc/<pid>/cmdline: it comes from a file or
// from BILLING_TOKEN (see Token).
type API struct {
	// URL is the API base URL, e.g. https://api.bill.sh. Required.
	URL string
	// TokenFile is a file holding the API token, e.g. a mounted Kubernetes
	// secret.
	TokenFile string
	// InsecureSkipVerify turns off TLS certificate verification; it is on
	// by default.
	InsecureSkipVerify bool
}

// Register defines -api-url, -token-file and -insecure-skip-verify on fs,
// falling back to BILLING_API_URL, BILLING_TOKEN_FILE and
// BILLING_INSECURE_SKIP_VERIFY.
func (a *API) Register(fs *flag.FlagSet) {
	String(fs, &a.URL, "api-url", EnvAPIURL, a.URL, "billing API base `URL`, e.g. https://api.bill.sh")
	String(fs, &a.TokenFile, "token-file", EnvTokenFile, a.TokenFile,
		"read the API token from `file` (whitespace trimmed); otherwise it comes from "+EnvToken)
	Bool(fs, &a.InsecureSkipVerify, "insecure-skip-verify", EnvInsecureSkipVerify, a.InsecureSkipVerify,
		"do not verify the API's TLS certificate (testing only)")
}

// Validate reports, as a *UsageError, a missing or malformed URL.
func (a *API) Validate() error {
	if a.URL == "" {
		return Usagef("no API URL: set -api-url or %s", EnvAPIURL)
	}
	u, err := url.Parse(a.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Usagef("invalid API URL %q: want http(s)://host[:port][/path]", a.URL)
	}
	if u.User != nil {
		return Usagef("invalid API URL: credentials in the URL are not supported; use -token-file or %s", EnvToken)
	}
	return nil
}

// Token returns the API token: the trimmed content of TokenFile when set,
// else getenv("BILLING_TOKEN"). With neither, it returns a *UsageError
// wrapping ErrNoToken. Errors never include the token.
func (a *API) Token(getenv func(string) string) (string, error) {
	tok, src := strings.TrimSpace(getenv(EnvToken)), EnvToken
	if a.TokenFile != "" {
		b, err := os.ReadFile(a.TokenFile)
		if err != nil {
			// A usage error: nothing was done, and the fix is in the
			// settings (a secret not mounted, a wrong path).
			return "", Usagef("read token file (-token-file or %s): %w", EnvTokenFile, err)
		}
		tok, src = strings.TrimSpace(string(b)), "token file "+a.TokenFile
	}
	switch {
	case a.TokenFile == "" && tok == "":
		return "", &UsageError{Err: ErrNoToken}
	case tok == "":
		return "", Usagef("%s is empty", src)
	case strings.ContainsFunc(tok, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		// It would make a broken or forged Authorization header.
		return "", Usagef("%s: the token contains spaces or control characters", src)
	}
	return tok, nil
}

// Client is the flags of a command that talks to the API: API's, and
// -log-level (PREFIX_LOG_LEVEL).
type Client struct {
	API
	LogLevel  slog.Level
	userAgent string
}

// Register registers the flags on fs; userAgent names the command to the
// API ("billharness-reconcile/v1.2.3").
func (c *Client) Register(fs *flag.FlagSet, prefix, userAgent string) {
	c.userAgent = userAgent
	c.API.Register(fs)
	LogLevel(fs, &c.LogLevel, prefix)
}

// LogLevel registers -log-level (PREFIX_LOG_LEVEL) on fs.
func LogLevel(fs *flag.FlagSet, p *slog.Level, prefix string) {
	TextVar(fs, p, "log-level", prefix+"_LOG_LEVEL", slog.LevelInfo, "log `level`: debug, info, warn or error")
}

// Logger is the command's logger, writing to w.
func (c *Client) Logger(w io.Writer) *slog.Logger { return NewLogger(w, c.LogLevel) }

// Config is the billing client configuration the flags describe. Without
// a token it returns the rest with an error wrapping ErrNoToken (doctor
// reports a missing token).
func (c *Client) Config(getenv func(string) string) (billing.Config, error) {
	tok, err := c.Token(getenv)
	return billing.Config{BaseURL: c.URL, Token: tok, UserAgent: c.userAgent, InsecureSkipVerify: c.InsecureSkipVerify}, err
}

// CheckHTTPURL reports, as a usage error, a value of flag name that is
// set and not an http(s):// URL.
func CheckHTTPURL(name, value string) error {
	if value != "" && !strings.HasPrefix(value, "http://") && !strings.HasPrefix(value, "https://") {
		return Usagef("-%s %q: want an http(s):// URL", name, value)
	}
	return nil
}
