package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/rampartnet/rampart/internal/validate"
)

// Load reads and validates a configuration file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data)
}

// Parse decodes YAML over the defaults and validates the result. The error,
// when not nil, lists every problem found (validate.Errors), each with its key
// path: unknown keys, values of the wrong type and values out of range.
func Parse(data []byte) (*Config, error) {
	cfg := Default()
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("config: line %d: more than one YAML document", extra.Line)
	}
	root := validate.New()
	if len(doc.Content) == 0 { // empty file: defaults only
		cfg.fillDefaults()
		cfg.Validate(root)
		return &cfg, root.Err()
	}
	lines := map[int]string{}
	checkNode(doc.Content[0], typeOf(&cfg), root, lines)
	if err := doc.Content[0].Decode(&cfg); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, fmt.Errorf("config: %w", err)
		}
		for _, msg := range te.Errors {
			pathAtLine(root, lines, msg)
		}
	}
	bad := map[string]bool{}
	if errs, ok := root.Err().(validate.Errors); ok {
		for _, e := range errs {
			bad[e.Path] = true
		}
	}
	cfg.fillDefaults()
	// A value that failed to decode keeps its default and would be reported a
	// second time, misleadingly, by range checks: validate on a scratch pass
	// and keep only errors at paths not already reported.
	scratch := validate.New()
	cfg.Validate(scratch)
	if errs, ok := scratch.Err().(validate.Errors); ok {
		for _, e := range errs {
			if !bad[e.Path] {
				root.At(e.Path).Errorf("%s", e.Msg)
			}
		}
	}
	return &cfg, root.Err()
}

var lineRE = regexp.MustCompile(`^line (\d+): (.*)$`)

// pathAtLine turns yaml.v3's "line N: cannot unmarshal ..." into an error at
// the key path found on that line.
func pathAtLine(root validate.Path, lines map[int]string, msg string) {
	m := lineRE.FindStringSubmatch(msg)
	if m == nil {
		root.Errorf("%s", msg)
		return
	}
	n, _ := strconv.Atoi(m[1])
	if path, ok := lines[n]; ok {
		root.At(path).Errorf("%s (line %d)", m[2], n)
		return
	}
	root.Errorf("%s", msg)
}

// Dump renders the effective configuration as YAML.
func (c *Config) Dump() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}
