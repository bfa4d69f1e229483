package sentencepiece

import (
	"fmt"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// bestPath is the best segmentation of the normalized text up to one byte position: the
// last piece (id, starting at start) and the total score. start is -1 while no path ends
// there.
type bestPath struct {
	score float32
	start int32
	id    int32
}

// span is one piece of a segmentation: normalized[start:end] is piece id.
type span struct {
	start, end int32
	id         int32
}

// encodeBuffer holds the scratch memory of one Encode call; Model pools them.
type encodeBuffer struct {
	norm  []byte
	best  []bestPath
	spans []span
}

// viterbi segments the normalized text like sentencepiece's unigram Model::EncodeOptimized:
// at each character start it walks the piece trie, and for every piece found keeps, at the
// piece's end, the path with the highest total score (ties keep the earlier path). A
// character no single piece covers gets an unknown node scoring minScore-10. User-defined
// pieces score length*maxScore-0.1, which makes them win over their parts.
//
// The arithmetic follows the C++ types so that ties and near-ties resolve identically: piece
// candidates are summed and compared in float64 against the stored float32 totals, unknown
// candidates in float32.
func (m *Model) viterbi(buf *encodeBuffer, text string) []span {
	size := len(text)
	if cap(buf.best) < size+1 {
		buf.best = make([]bestPath, size+1, 2*size+1)
	}
	best := buf.best[:size+1]
	for i := range best {
		best[i] = bestPath{start: -1, id: -1}
	}
	t := m.trie
	for start := 0; start < size; {
		here := best[start].score
		mblen := min(oneCharLen(text[start]), size-start)
		single := false
		node := int32(0)
		for pos := start; pos < size; {
			node = t.child(node, text[pos])
			pos++
			if node < 0 {
				break
			}
			id := t.value[node]
			if id < 0 || m.unused[id] {
				continue
			}
			length := pos - start
			var score float64
			if m.userDef[id] {
				prod := float32(length) * m.maxScore
				score = float64(prod) - 0.1
			} else {
				score = float64(m.scores[id])
			}
			cand := score + float64(here)
			if target := &best[pos]; target.start == -1 || cand > float64(target.score) {
				target.score = float32(cand)
				target.start = int32(start)
				target.id = id
			}
			if length == mblen {
				single = true
			}
		}
		if !single {
			cand := m.unkScore + here
			if target := &best[start+mblen]; target.start == -1 || cand > target.score {
				target.score = cand
				target.start = int32(start)
				target.id = m.unkID
			}
		}
		start += mblen
	}
	// Backtrack from the end, then reverse.
	spans := buf.spans[:0]
	for end := size; end > 0; {
		b := best[end]
		if b.start < 0 || int(b.start) >= end {
			break // unreachable: every character start reaches the next one
		}
		spans = append(spans, span{start: b.start, end: int32(end), id: b.id})
		end = int(b.start)
	}
	for i, j := 0, len(spans)-1; i < j; i, j = i+1, j-1 {
		spans[i], spans[j] = spans[j], spans[i]
	}
	buf.spans = spans
	return spans
}

// segment normalizes text and runs the Viterbi search; the returned normalized string and
// spans live in buf.
func (m *Model) segment(buf *encodeBuffer, text string) (string, []span) {
	buf.norm = m.norm.normalize(buf.norm[:0], text)
	norm := unsafeString(buf.norm)
	if norm == "" {
		return "", nil
	}
	return norm, m.viterbi(buf, norm)
}

// Encode returns the ids of text's pieces, as spm_encode --output_format=id prints them:
// a run of unknown characters becomes one unknown id, or with byte_fallback the ids of the
// <0xNN> pieces of its UTF-8 bytes. No BOS or EOS id is added.
func (m *Model) Encode(text string) []int {
	return m.AppendEncode(nil, text)
}

// AppendEncode appends the ids of text's pieces to dst and returns it (Encode without the
// allocation of a new slice).
func (m *Model) AppendEncode(dst []int, text string) []int {
	buf := m.bufs.Get().(*encodeBuffer)
	defer m.bufs.Put(buf)
	norm, spans := m.segment(buf, text)
	prevUnk := false
	for _, s := range spans {
		isUnk := s.id == m.unkID
		switch {
		case isUnk && m.trainer.ByteFallback:
			for _, c := range []byte(norm[s.start:s.end]) {
				dst = append(dst, int(m.byteIDs[c]))
			}
		case isUnk && prevUnk:
			// merged into the previous unknown piece
		default:
			dst = append(dst, int(s.id))
		}
		prevUnk = isUnk
	}
	return dst
}

// EncodePieces returns text's pieces, as spm_encode --output_format=piece prints them: a run
// of unknown characters is one piece holding their normalized text; with byte_fallback it
// becomes <0xNN> pieces instead.
func (m *Model) EncodePieces(text string) []string {
	buf := m.bufs.Get().(*encodeBuffer)
	defer m.bufs.Put(buf)
	norm, spans := m.segment(buf, text)
	out := make([]string, 0, len(spans))
	prevUnk := false
	for _, s := range spans {
		isUnk := s.id == m.unkID
		w := norm[s.start:s.end]
		switch {
		case isUnk && m.trainer.ByteFallback:
			for _, c := range []byte(w) {
				out = append(out, fmt.Sprintf("<0x%02X>", c))
			}
		case isUnk && prevUnk:
			out[len(out)-1] += w
		default:
			out = append(out, strings.Clone(w))
		}
		prevUnk = isUnk
	}
	return out
}

// Decode turns ids back into text as spm_decode does: control pieces (<s>, </s>, <pad>)
// vanish, <unk> becomes the model's unk surface (" ⁇ "), runs of <0xNN> pieces are
// reassembled into UTF-8 (a byte that does not form a valid character becomes U+FFFD), ▁
// becomes a space, and the space the encoder added in front is dropped. Ids outside the
// vocabulary are skipped.
func (m *Model) Decode(ids []int) string {
	pieces := make([]string, 0, len(ids))
	for _, id := range ids {
		if id >= 0 && id < len(m.pieces) {
			pieces = append(pieces, m.pieces[id].Text)
		}
	}
	return m.DecodePieces(pieces)
}

// DecodePieces turns piece strings back into text, as Decode does for ids; a string that is
// not a piece of the model counts as <unk> but is written as it is.
func (m *Model) DecodePieces(pieces []string) string {
	var text strings.Builder
	var bytes []byte
	flush := func() {
		for len(bytes) > 0 {
			r, size := utf8.DecodeRune(bytes)
			if r == utf8.RuneError && size <= 1 {
				text.WriteString(replacementChar)
				size = 1
			} else {
				text.Write(bytes[:size])
			}
			bytes = bytes[size:]
		}
	}
	// The ▁ of the dummy prefix is dropped from the first piece that starts with one while
	// nothing has been written yet. Without remove_extra_whitespaces only one ▁ is dropped:
	// the pieces after it keep theirs, so that the text's own leading spaces come back.
	stripBOSSpace := m.normSpec.AddDummyPrefix || m.normSpec.RemoveExtraWhitespaces
	atBOS := true
	for _, w := range pieces {
		id := m.PieceToID(w)
		switch m.pieces[id].Type {
		case Byte:
			c, _ := pieceToByte(w)
			bytes = append(bytes, c)
			continue
		case Control:
			flush()
			continue
		case Unknown:
			flush()
			if w == m.pieces[id].Text {
				text.WriteString(m.trainer.UnkSurface)
			} else {
				text.WriteString(w)
			}
			continue
		}
		flush()
		if text.Len() > 0 {
			atBOS = false
		}
		if atBOS && stripBOSSpace && strings.HasPrefix(w, spaceSymbol) {
			w = w[len(spaceSymbol):]
			if !m.normSpec.RemoveExtraWhitespaces {
				atBOS = false
			}
		}
		text.WriteString(strings.ReplaceAll(w, spaceSymbol, " "))
	}
	flush()
	if m.denorm != nil {
		return string(m.denorm.normalize(nil, text.String()))
	}
	return text.String()
}

// unsafeString views b as a string without copying. The callers only read it while b is
// unchanged and copy whatever they keep.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
