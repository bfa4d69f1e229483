package sentencepiece

import (
	"encoding/binary"
	"fmt"
)

// dartsTrie reads a Darts-clone double array, the trie format sentencepiece stores in
// precompiled_charsmap. The array is a list of little-endian 32-bit units. A unit is either
// an inner node or a value:
//
//	bits 0-7   label: the byte that leads to this node from its parent
//	bit  8     has_leaf: a key ends here; its value is in the unit at (this ^ offset)
//	bit  9     offset is stored shifted left by 8
//	bits 10-30 offset: children of this node live at (this ^ offset ^ label)
//	bit  31    set on value units, so that their label never matches a byte
//
// A value unit keeps the value in bits 0-30. Searching follows one unit per key byte and
// stops at the first unit whose label is not that byte.
type dartsTrie struct {
	units []uint32
}

// newDartsTrie wraps the serialized units of a double array.
func newDartsTrie(b []byte) (dartsTrie, error) {
	if len(b) == 0 || len(b)%4 != 0 {
		return dartsTrie{}, fmt.Errorf("double array of %d bytes is not a whole number of 4-byte units", len(b))
	}
	units := make([]uint32, len(b)/4)
	for i := range units {
		units[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return dartsTrie{units: units}, nil
}

func dartsHasLeaf(u uint32) bool  { return (u>>8)&1 == 1 }
func dartsValue(u uint32) int32   { return int32(u & (1<<31 - 1)) }
func dartsLabel(u uint32) uint32  { return u & (1<<31 | 0xff) }
func dartsOffset(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }

// longestPrefix does what sentencepiece's normalizer does with Darts' commonPrefixSearch:
// it collects the keys that are prefixes of s, keeps the first maxResults of them (shortest
// first) and returns the longest of those, with its value. found is false when no key is a
// prefix of s. Indices outside the array (a corrupt model) end the search.
func (d dartsTrie) longestPrefix(s string, maxResults int) (length int, value int32, found bool) {
	units := d.units
	n := uint32(len(units))
	id := dartsOffset(units[0])
	results := 0
	for i := 0; i < len(s); i++ {
		c := uint32(s[i])
		id ^= c
		if id >= n {
			break
		}
		u := units[id]
		if dartsLabel(u) != c {
			break
		}
		id ^= dartsOffset(u)
		if dartsHasLeaf(u) {
			if id >= n {
				break
			}
			if results < maxResults {
				length, value, found = i+1, dartsValue(units[id]), true
			}
			results++
		}
	}
	return length, value, found
}
