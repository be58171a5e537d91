package api

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/internal/validate"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want []string // every error expected, empty: valid
	}{
		{"default", func(*Config) {}, nil},
		{"token", func(c *Config) { c.Token = testToken; c.RequireTokenForReads = true }, nil},
		{"everything wrong", func(c *Config) {
			c.Listen = "localhost"
			c.Token = "short"
			c.TokenFile = "/etc/rampart/token"
			c.ShutdownTimeout = 0
		}, []string{
			`api.listen: must be host:port, got "localhost"`,
			`api.token_file: set token or token_file, not both (token_file is "/etc/rampart/token")`,
			`api.token: must be at least 16 characters, got 5`,
			`api.shutdown_timeout: must be > 0, got 0s`,
		}},
		{"bad port", func(c *Config) { c.Listen = "127.0.0.1:99999" }, []string{`api.listen: port must be 1-65535, got "99999"`}},
		{"reads without token", func(c *Config) { c.RequireTokenForReads = true }, []string{`api.require_token_for_reads: needs token or token_file, got true with neither`}},
		{"space", func(c *Config) { c.Token = " " + testToken }, []string{`api.token: must not start or end with white space`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			p := validate.New()
			c.Validate(p.At("api"))
			var got []string
			if err := p.Err(); err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "token")
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(good, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(short, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFake()
	deps := Deps{Status: f, Hosts: f, Attacks: f, Mitigations: f}
	c := DefaultConfig()
	c.TokenFile = good
	s, err := New(zerolog.Nop(), c, deps)
	if err != nil || s.token != testToken {
		t.Errorf("token from file: %q, %v", s.token, err)
	}
	for path, want := range map[string]string{short: "at least 16 characters, got 3", filepath.Join(dir, "none"): "no such file"} {
		c.TokenFile = path
		if _, err := New(zerolog.Nop(), c, deps); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("token_file %s: %v, want %q", path, err, want)
		}
	}
}
