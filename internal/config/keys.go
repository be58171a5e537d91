package config

import (
	"net/netip"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rampartnet/rampart/internal/validate"
)

var (
	prefixType   = reflect.TypeOf(netip.Prefix{})
	addrType     = reflect.TypeOf(netip.Addr{})
	durationType = reflect.TypeOf(time.Duration(0))
)

func typeOf(v any) reflect.Type { return reflect.TypeOf(v).Elem() }

// checkNode walks the YAML tree beside the Go type it decodes into. It
// reports unknown keys and unparsable addresses, prefixes and durations at
// their key path, and records which path each line holds so that yaml.v3's
// line-numbered type errors can be reported by path too. Bad scalars are
// blanked, because yaml.v3 aborts the whole decode on the first failing
// TextUnmarshaler and the operator is owed every error at once.
func checkNode(n *yaml.Node, t reflect.Type, p validate.Path, lines map[int]string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if p.String() != "" {
		lines[n.Line] = p.String()
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	switch t {
	case prefixType:
		checkScalar(n, p, "a prefix such as 192.0.2.0/24", func(s string) bool { _, err := netip.ParsePrefix(s); return err == nil })
		return
	case addrType:
		checkScalar(n, p, "an IP address", func(s string) bool { _, err := netip.ParseAddr(s); return err == nil })
		return
	case durationType:
		checkScalar(n, p, "a duration such as 10s or 100ms", func(s string) bool { _, err := time.ParseDuration(s); return err == nil })
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // yaml.v3 reports the type mismatch
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			ft, ok := fields[key.Value]
			if !ok {
				p.At(key.Value).Errorf("unknown key (line %d); known keys: %s", key.Line, knownKeys(fields))
				continue
			}
			checkNode(val, ft, p.At(key.Value), lines)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range n.Content {
			checkNode(c, t.Elem(), p.Index(i), lines)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			checkNode(n.Content[i+1], t.Elem(), p.At(n.Content[i].Value), lines)
		}
	}
}

func checkScalar(n *yaml.Node, p validate.Path, want string, ok func(string) bool) {
	if n.Kind != yaml.ScalarNode {
		p.Errorf("must be %s (line %d)", want, n.Line)
		*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line}
		return
	}
	if n.Value == "" || ok(n.Value) {
		return
	}
	p.Errorf("must be %s, got %q (line %d)", want, n.Value, n.Line)
	n.Tag, n.Value, n.Style = "!!null", "", 0
}

// yamlFields maps each YAML key of struct t to its field type, following
// inline fields the way yaml.v3 does.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func knownKeys(fields map[string]reflect.Type) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}
