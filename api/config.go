// Package api is the operator surface: a local HTTP API with versioned JSON
// endpoints, Prometheus metrics, and the client the CLI uses to reach them.
package api

import (
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rampartnet/rampart/internal/validate"
)

// Config is the api: section.
type Config struct {
	Enabled bool   `yaml:"enabled"`
	Listen  string `yaml:"listen"` // host:port; loopback by default
	// Token authorises every call that changes state (Authorization:
	// Bearer TOKEN). Without a token (or token_file) such calls are refused.
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"` // first line is the token
	// RequireTokenForReads asks for the token on every call, /metrics too.
	RequireTokenForReads bool          `yaml:"require_token_for_reads"`
	ShutdownTimeout      time.Duration `yaml:"shutdown_timeout"`
}

// DefaultListen is where the API listens unless told otherwise, and where
// the CLI looks for it.
const DefaultListen = "127.0.0.1:8179"

// minTokenLen keeps tokens long enough not to be guessed.
const minTokenLen = 16

// DefaultConfig serves on loopback with state changes disabled until a
// token is set.
func DefaultConfig() Config {
	return Config{Enabled: true, Listen: DefaultListen, ShutdownTimeout: 5 * time.Second}
}

// Validate reports every bad value under p.
func (c *Config) Validate(p validate.Path) {
	if host, port, err := net.SplitHostPort(c.Listen); err != nil {
		p.Fieldf("listen", "must be host:port, got %q", c.Listen)
	} else if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && host != "") {
		p.Fieldf("listen", "port must be 1-65535, got %q", port)
	}
	if c.Token != "" && c.TokenFile != "" {
		p.Fieldf("token_file", "set token or token_file, not both (token_file is %q)", c.TokenFile)
	}
	if c.Token != "" && len(c.Token) < minTokenLen {
		p.Fieldf("token", "must be at least %d characters, got %d", minTokenLen, len(c.Token))
	}
	if strings.TrimSpace(c.Token) != c.Token {
		p.Fieldf("token", "must not start or end with white space")
	}
	if c.RequireTokenForReads && c.Token == "" && c.TokenFile == "" {
		p.Fieldf("require_token_for_reads", "needs token or token_file, got %v with neither", c.RequireTokenForReads)
	}
	if c.ShutdownTimeout <= 0 {
		p.Fieldf("shutdown_timeout", "must be > 0, got %v", c.ShutdownTimeout)
	}
}

// token is the configured token, read from token_file if set.
func (c *Config) token() (string, error) {
	if c.TokenFile == "" {
		return c.Token, nil
	}
	b, err := os.ReadFile(c.TokenFile)
	if err != nil {
		return "", err
	}
	t, _, _ := strings.Cut(string(b), "\n")
	t = strings.TrimSpace(t)
	if len(t) < minTokenLen {
		return "", &tokenFileError{path: c.TokenFile, n: len(t)}
	}
	return t, nil
}

type tokenFileError struct {
	path string
	n    int
}

func (e *tokenFileError) Error() string {
	return "api: token_file " + e.path + ": token must be at least " + strconv.Itoa(minTokenLen) + " characters, got " + strconv.Itoa(e.n)
}
