package yamlconf

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// entry is one key and value of a mapping; name is the key's text.
type entry struct {
	key, val *yaml.Node
	name     string
}

// entries lists the keys and values of mapping n in the order yaml.v3 applies
// them: n's own keys, then the keys merged in with "<<" that n does not set
// itself, earlier merge sources winning over later ones. Keys that are not
// scalars, and keys repeated in n, are reported and left out.
func (d *decoder) entries(n *yaml.Node, path string) []entry {
	var out []entry
	first := make(map[string]int) // key -> line it was first set on
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMerge(k) {
			merges = append(merges, v)
			continue
		}
		kr := resolve(k)
		if kr.Kind != yaml.ScalarNode {
			d.add(k.Line, path, "expected a plain key, got "+describe(k))
			continue
		}
		name := kr.Value
		if line, dup := first[name]; dup {
			d.add(k.Line, join(path, name), fmt.Sprintf("duplicate key %q, first set on line %d", name, line))
			continue
		}
		first[name] = k.Line
		out = append(out, entry{key: k, val: v, name: name})
	}
	for _, m := range merges {
		for _, e := range d.merged(m, path) {
			if _, set := first[e.name]; !set {
				first[e.name] = e.key.Line
				out = append(out, e)
			}
		}
	}
	return out
}

// merged lists the entries a "<<" merge brings in: those of a mapping, or of
// each mapping in a list, usually reached through aliases.
func (d *decoder) merged(m *yaml.Node, path string) []entry {
	srcs := []*yaml.Node{m}
	if r := resolve(m); r.Kind == yaml.SequenceNode {
		srcs = r.Content
	}
	var out []entry
	for _, src := range srcs {
		r := resolve(src)
		switch {
		case r.Kind != yaml.MappingNode:
			d.add(src.Line, path, "a merge (<<) takes a mapping or a list of mappings, got "+describe(src))
		case d.active[r]:
			d.add(src.Line, path, "a merge (<<) refers to the mapping that contains it")
		case d.spend(len(r.Content)/2+1, src.Line, path):
			d.active[r] = true
			d.depth++
			out = append(out, d.entries(r, path)...)
			d.depth--
			delete(d.active, r)
		}
	}
	return out
}

// spend takes n nodes from the budget for aliases and merges, and reports
// (once) when it has run out.
func (d *decoder) spend(n, line int, path string) bool {
	if d.budget < 0 {
		return false
	}
	d.budget -= n
	if d.budget < 0 {
		d.fail(line, path, "too many aliases and merges to expand; this is not a plausible config")
		return false
	}
	return true
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// isMerge reports whether key n is the merge key "<<", as yaml.v3 decides it.
func isMerge(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" &&
		(n.Tag == "" || n.Tag == "!" || n.ShortTag() == "!!merge")
}

// isNull reports whether n is null: "~", "null" or nothing at all.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}
