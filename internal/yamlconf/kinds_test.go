package yamlconf_test

import (
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// level decodes itself from YAML, and panics on "boom" to check that Decode
// turns a misbehaving unmarshaler into a problem.
type level int

func (l *level) UnmarshalYAML(n *yaml.Node) error {
	switch n.Value {
	case "low":
		*l = 1
	case "high":
		*l = 2
	case "boom":
		panic("boom")
	default:
		return errors.New("want low or high")
	}
	return nil
}

type kindsInner struct {
	A int `yaml:"a"`
}

// KindsExtra is exported: an embedded pointer to an unexported struct cannot
// be allocated through reflection.
type KindsExtra struct {
	B string `yaml:"b"`
}

// kindsConfig has the less common shapes yaml.v3 supports.
type kindsConfig struct {
	Any         any               `yaml:"any"`
	Raw         yaml.Node         `yaml:"raw"`
	Level       level             `yaml:"level"`
	Levels      map[string]*level `yaml:"levels"`
	Pair        [2]int            `yaml:"pair"`
	Small       uint8             `yaml:"small"`
	PtrInt      *int              `yaml:"ptr_int"`
	Embedded    kindsInner        // not inlined without the tag: key "embedded"
	*KindsExtra `yaml:",inline"`
	Rest        map[string]int `yaml:",inline"`
}

var kindsCases = []struct {
	name, yaml, want string
}{
	{"all good", "any: {x: [1, 2]}\nraw: [a]\nlevel: high\nlevels: {a: low}\npair: [1, 2]\n" +
		"small: 255\nptr_int: 3\nembedded: {a: 1}\nb: x\nextra: 7", ""},
	{"unmarshaler error", "level: medium", "k.yaml:1: level: invalid value \"medium\": want low or high"},
	{"unmarshaler panic", "levels: {a: boom}",
		"k.yaml:1: levels.a: invalid value \"boom\": panic while decoding: boom"},
	{"array length", "pair: [1, 2, 3]", "k.yaml:1: pair: expected a list of 2 items, got 3"},
	{"small int", "small: 256", `k.yaml:1: small: expected a non-negative integer that fits in uint8, got "256"`},
	{"pointer to int", "ptr_int: x", `k.yaml:1: ptr_int: expected an integer, got "x"`},
	{"inline map takes the rest", "other: x", `k.yaml:1: other: expected an integer, got "x"`},
	{"embedded struct checks keys", "embedded: {b: 1}",
		`k.yaml:1: embedded.b: unknown field "b"; known fields: a`},
	{"alias to itself in any", "any: &x [*x]", "k.yaml:1: any: invalid list: anchor 'x' value contains itself"},
}

func TestDecodeKinds(t *testing.T) {
	for _, tc := range kindsCases {
		t.Run(tc.name, func(t *testing.T) {
			var cfg kindsConfig
			err := yamlconf.Decode("k.yaml", []byte(tc.yaml), &cfg)
			if errString(err) != tc.want {
				t.Fatalf("Decode error:\n%s\nwant:\n%s", errString(err), tc.want)
			}
			if tc.want != "" {
				return
			}
			if cfg.Level != 2 || *cfg.Levels["a"] != 1 || cfg.Pair != [2]int{1, 2} || cfg.Small != 255 ||
				*cfg.PtrInt != 3 || cfg.Embedded.A != 1 || cfg.KindsExtra.B != "x" || cfg.Rest["extra"] != 7 ||
				cfg.Raw.Kind != yaml.SequenceNode || cfg.Any.(map[string]any)["x"].([]any)[1] != 2 {
				t.Errorf("decoded %+v", cfg)
			}
		})
	}
}

// TestDecodeBadTags checks that a struct yaml.v3 would reject is reported,
// not panicked on.
func TestDecodeBadTags(t *testing.T) {
	var cfg struct {
		A int `yaml:"a,strict"`
	}
	err := yamlconf.Decode("t.yaml", []byte("a: 1"), &cfg)
	if want := `unsupported yaml tag flag "strict"`; !strings.Contains(errString(err), want) {
		t.Errorf("Decode error %q, want it to mention %q", errString(err), want)
	}
	var hidden struct {
		*kindsInner `yaml:",inline"`
	}
	err = yamlconf.Decode("t.yaml", []byte("a: 1"), &hidden)
	if want := "t.yaml:1: a: yamlconf: cannot set a field behind an unexported embedded pointer"; errString(err) != want {
		t.Errorf("Decode error %q, want %q", errString(err), want)
	}
}

// TestDecodeAliasBomb checks that exponential alias expansion into an any
// field is cut short by yaml.v3 rather than exhausting memory.
func TestDecodeAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a: &a [x, x, x, x, x, x, x, x, x, x]\n")
	for c := 'b'; c <= 'i'; c++ {
		prev := string(c - 1)
		b.WriteString(string(c) + ": &" + string(c) + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n")
	}
	var cfg struct {
		Rest map[string]any `yaml:",inline"`
	}
	err := yamlconf.Decode("bomb.yaml", []byte(b.String()), &cfg)
	if !strings.Contains(errString(err), "excessive aliasing") {
		t.Errorf("Decode error %q, want excessive aliasing", errString(err))
	}
}
