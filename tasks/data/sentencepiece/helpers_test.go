package sentencepiece

import (
	"encoding/binary"
	"math"
	"sort"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// buildDarts builds a Darts-clone double array mapping keys to values, in the unit layout
// dartsTrie reads, for tests. It gives every node a fresh block of 256 units: a node's
// children sit at block+label and its value at block+0 (labels are never 0). Unused units
// carry the leaf bit so that no label ever matches them.
func buildDarts(keys map[string]int32) []byte {
	type node struct {
		children map[byte]*node
		value    int32
		hasValue bool
	}
	root := &node{children: map[byte]*node{}}
	for k, v := range keys {
		n := root
		for i := 0; i < len(k); i++ {
			c := n.children[k[i]]
			if c == nil {
				c = &node{children: map[byte]*node{}}
				n.children[k[i]] = c
			}
			n = c
		}
		n.value, n.hasValue = v, true
	}
	units := make([]uint32, 256)
	for i := range units {
		units[i] = 1 << 31
	}
	var place func(n *node, id uint32, label byte)
	place = func(n *node, id uint32, label byte) {
		base := uint32(len(units))
		for i := 0; i < 256; i++ {
			units = append(units, 1<<31)
		}
		unit := uint32(label) | (id^base)<<10
		if n.hasValue {
			unit |= 1 << 8
			units[base] = 1<<31 | uint32(n.value)
		}
		units[id] = unit
		labels := make([]int, 0, len(n.children))
		for c := range n.children {
			labels = append(labels, int(c))
		}
		sort.Ints(labels)
		for _, c := range labels {
			place(n.children[byte(c)], base+uint32(c), byte(c))
		}
	}
	place(root, 0, 0)
	b := make([]byte, 4*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint32(b[4*i:], u)
	}
	return b
}

// buildCharsmap compiles normalization rules (from → to) into a precompiled_charsmap blob.
func buildCharsmap(rules map[string]string) []byte {
	var strs strings.Builder
	keys := map[string]int32{}
	froms := make([]string, 0, len(rules))
	for from := range rules {
		froms = append(froms, from)
	}
	sort.Strings(froms)
	for _, from := range froms {
		keys[from] = int32(strs.Len())
		strs.WriteString(rules[from])
		strs.WriteByte(0)
	}
	trie := buildDarts(keys)
	blob := binary.LittleEndian.AppendUint32(nil, uint32(len(trie)))
	blob = append(blob, trie...)
	return append(blob, strs.String()...)
}

// protoMsg builds serialized protobuf messages for tests.
type protoMsg []byte

func (m protoMsg) str(num protowire.Number, s string) protoMsg {
	m = protowire.AppendTag(m, num, protowire.BytesType)
	return protowire.AppendString(m, s)
}

func (m protoMsg) msg(num protowire.Number, sub protoMsg) protoMsg {
	m = protowire.AppendTag(m, num, protowire.BytesType)
	return protowire.AppendBytes(m, sub)
}

func (m protoMsg) varint(num protowire.Number, v int64) protoMsg {
	m = protowire.AppendTag(m, num, protowire.VarintType)
	return protowire.AppendVarint(m, uint64(v))
}

func (m protoMsg) float(num protowire.Number, f float32) protoMsg {
	m = protowire.AppendTag(m, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(m, math.Float32bits(f))
}

// testPiece is a vocabulary entry of a hand-made model.
type testPiece struct {
	text  string
	score float32
	typ   PieceType
}

// buildModel serializes a ModelProto with the pieces, trainer_spec and normalizer_spec.
func buildModel(pieces []testPiece, trainer, normalizer protoMsg) []byte {
	var m protoMsg
	for _, p := range pieces {
		m = m.msg(fModelPieces, protoMsg(nil).str(fPieceText, p.text).float(fPieceScore, p.score).varint(fPieceType, int64(p.typ)))
	}
	if trainer != nil {
		m = m.msg(fModelTrainer, trainer)
	}
	if normalizer != nil {
		m = m.msg(fModelNormalizer, normalizer)
	}
	return m
}

// smallPieces is a tiny vocabulary with every piece type. Ids: 0 <unk>, 1 <s>, 2 </s>,
// 3 ▁a, 4 b, 5 ▁ab, 6 ▁, 7 a, 8 <sep>, 9 c, 10 zz (unused), 11 z.
var smallPieces = []testPiece{
	{"<unk>", 0, Unknown}, {"<s>", 0, Control}, {"</s>", 0, Control},
	{"▁a", -1, Normal}, {"b", -2, Normal}, {"▁ab", -2.5, Normal}, {"▁", -3, Normal},
	{"a", -3, Normal}, {"<sep>", 0, UserDefined}, {"c", -4, Normal}, {"zz", -0.5, Unused},
	{"z", -5, Normal},
}

// withBytes appends the 256 <0xNN> pieces.
func withBytes(pieces []testPiece) []testPiece {
	out := append([]testPiece(nil), pieces...)
	for c := 0; c < 256; c++ {
		out = append(out, testPiece{"<0x" + strings.ToUpper(hex2(byte(c))) + ">", 0, Byte})
	}
	return out
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}
