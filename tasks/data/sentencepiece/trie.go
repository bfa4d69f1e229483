package sentencepiece

import (
	"fmt"
	"sort"
)

// byteTrie is a double-array trie over byte strings, built here from the vocabulary. Node 0
// is the root; the child of node p for byte c is q = base[p]+c, valid when check[q] == p.
// value[q] is the id stored for the key ending at q, or -1.
type byteTrie struct {
	base  []int32
	check []int32
	value []int32
}

// trieKey is one key of a byteTrie and the value it maps to.
type trieKey struct {
	key   string
	value int32
}

// buildByteTrie builds a trie of the keys. Keys must be non-empty and distinct.
func buildByteTrie(keys []trieKey) (*byteTrie, error) {
	sorted := append([]trieKey(nil), keys...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].key < sorted[j].key })
	for i := range sorted {
		if sorted[i].key == "" {
			return nil, fmt.Errorf("empty key in trie")
		}
		if i > 0 && sorted[i].key == sorted[i-1].key {
			return nil, fmt.Errorf("key %q occurs twice", sorted[i].key)
		}
	}
	b := &trieBuilder{t: &byteTrie{}, size: 1}
	b.grow(256)
	b.t.check[0] = 0 // the root is its own parent: never a child slot
	b.use(0)
	b.insert(0, sorted, 0)
	b.t.base = b.t.base[:b.size]
	b.t.check = b.t.check[:b.size]
	b.t.value = b.t.value[:b.size]
	return b.t, nil
}

type trieBuilder struct {
	t    *byteTrie
	used []bool
	// nextFree[i] leads towards the first free slot at or after i: a union-find forest with
	// path compression, so that placing a node skips the used slots in near-constant time.
	nextFree []int32
	size     int // one past the highest used slot (the root at least)
}

func (b *trieBuilder) grow(n int) {
	for len(b.used) < n {
		b.nextFree = append(b.nextFree, int32(len(b.used)))
		b.t.base = append(b.t.base, 0)
		b.t.check = append(b.t.check, -1)
		b.t.value = append(b.t.value, -1)
		b.used = append(b.used, false)
	}
}

// free returns the first free slot at or after i, growing the arrays when there is none.
func (b *trieBuilder) free(i int) int {
	b.grow(i + 1)
	root := i
	for b.nextFree[root] != int32(root) {
		root = int(b.nextFree[root])
		b.grow(root + 1)
	}
	for i != root { // path compression
		next := int(b.nextFree[i])
		b.nextFree[i] = int32(root)
		i = next
	}
	return root
}

// use marks slot i used.
func (b *trieBuilder) use(i int) {
	b.used[i] = true
	b.nextFree[i] = int32(i + 1)
	b.grow(i + 2)
}

// insert places the children of node for keys (sorted, all sharing their first depth bytes)
// and recurses.
func (b *trieBuilder) insert(node int32, keys []trieKey, depth int) {
	if len(keys) > 0 && len(keys[0].key) == depth {
		b.t.value[node] = keys[0].value
		keys = keys[1:]
	}
	if len(keys) == 0 {
		return
	}
	// Group the keys by their byte at depth.
	type group struct {
		label byte
		keys  []trieKey
	}
	var groups []group
	for start := 0; start < len(keys); {
		c := keys[start].key[depth]
		end := start + 1
		for end < len(keys) && keys[end].key[depth] == c {
			end++
		}
		groups = append(groups, group{c, keys[start:end]})
		start = end
	}
	base := b.findBase(groups[0].label, groups[len(groups)-1].label, func(base int) bool {
		for _, g := range groups {
			if b.used[base+int(g.label)] {
				return false
			}
		}
		return true
	})
	b.t.base[node] = int32(base)
	for _, g := range groups {
		q := base + int(g.label)
		b.use(q)
		b.t.check[q] = node
		if q+1 > b.size {
			b.size = q + 1
		}
	}
	for _, g := range groups {
		b.insert(int32(base+int(g.label)), g.keys, depth+1)
	}
}

// findBase returns the smallest base >= 1 for which fits holds, trying only bases that put
// the smallest label on a free slot. The arrays are grown to hold base+maxLabel.
func (b *trieBuilder) findBase(minLabel, maxLabel byte, fits func(base int) bool) int {
	for pos := b.free(int(minLabel) + 1); ; pos = b.free(pos + 1) {
		base := pos - int(minLabel)
		b.grow(base + int(maxLabel) + 1)
		if fits(base) {
			return base
		}
	}
}

// child returns the node reached from node by byte c, or -1.
func (t *byteTrie) child(node int32, c byte) int32 {
	q := t.base[node] + int32(c)
	if int(q) < len(t.check) && t.check[q] == node && q != 0 {
		return q
	}
	return -1
}

// lookup returns the value stored for key, or -1.
func (t *byteTrie) lookup(key string) int32 {
	node := int32(0)
	for i := 0; i < len(key); i++ {
		if node = t.child(node, key[i]); node < 0 {
			return -1
		}
	}
	return t.value[node]
}

// longestPrefix returns the length of the longest key that is a prefix of s among the first
// maxResults matching keys (shortest first), or 0.
func (t *byteTrie) longestPrefix(s string, maxResults int) int {
	node := int32(0)
	longest, results := 0, 0
	for i := 0; i < len(s) && results < maxResults; i++ {
		if node = t.child(node, s[i]); node < 0 {
			break
		}
		if t.value[node] >= 0 {
			longest = i + 1
			results++
		}
	}
	return longest
}
