package sentencepiece

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
)

// Model is a loaded sentencepiece Unigram model. It is safe for concurrent use.
type Model struct {
	pieces   []Piece
	trainer  TrainerSpec
	normSpec NormalizerSpec
	norm     *normalizer
	denorm   *normalizer // nil unless the model has denormalization rules
	trie     *byteTrie   // NORMAL, USER_DEFINED and UNUSED pieces: what the segmenter matches
	reserved map[string]int32
	byteIDs  [256]int32 // id of <0xNN>, or -1
	unkID    int32      // the UNKNOWN piece: what unknown characters encode to
	maxScore float32    // highest score of a NORMAL piece (at least FLT_MIN, as in C++)
	unkScore float32    // score of an unknown character: lowest NORMAL score - 10
	scores   []float32  // by id
	userDef  []bool     // by id
	unused   []bool     // by id
	bufs     sync.Pool  // *encodeBuffer
	// The accessors' answers: the trainer's special pieces when they have the right type.
	unkAccessor, bosID, eosID, padID int
}

// unkPenalty is how much worse than the worst piece an unknown character scores.
const unkPenalty float32 = 10

// errNotUnigram is wrapped by the error for models of another type.
var errNotUnigram = errors.New("only Unigram models are supported")

// notAModel is the hint given with errors that suggest the file is something else.
const notAModel = "expected the .model file spm_train writes, such as T5's spiece.model"

// Load reads and parses a sentencepiece model file (spiece.model, m.model).
func Load(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sentencepiece: reading model: %w", err)
	}
	m, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("sentencepiece: %s: %w", path, err)
	}
	return m, nil
}

// Parse decodes a serialized sentencepiece ModelProto. Files that are not sentencepiece
// models, are corrupt, or hold a BPE, word or char model are errors.
func Parse(b []byte) (*Model, error) {
	m, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("sentencepiece: %w", err)
	}
	return m, nil
}

func parse(b []byte) (*Model, error) {
	mp, err := parseModelProto(b)
	if err != nil {
		return nil, fmt.Errorf("not a sentencepiece model (%w); %s", err, notAModel)
	}
	if len(mp.pieces) == 0 {
		return nil, fmt.Errorf("not a sentencepiece model: it has no pieces; %s", notAModel)
	}
	if t := mp.trainer.ModelType; t != Unigram {
		return nil, fmt.Errorf("model type is %s (trained with --model_type=%s): %w; retrain with --model_type=unigram", t, t, errNotUnigram)
	}
	m := &Model{
		pieces:   mp.pieces,
		trainer:  mp.trainer,
		normSpec: mp.normalizer,
		reserved: map[string]int32{},
		unkID:    -1,
		scores:   make([]float32, len(mp.pieces)),
		userDef:  make([]bool, len(mp.pieces)),
		unused:   make([]bool, len(mp.pieces)),
	}
	for i := range m.byteIDs {
		m.byteIDs[i] = -1
	}
	// As sentencepiece's ModelInterface::InitializePieces: NORMAL, USER_DEFINED and UNUSED
	// pieces go into the segmenter's trie, the others are looked up by name only.
	var keys, userKeys []trieKey
	seen := make(map[string]bool, len(mp.pieces))
	// The C++ starts from FLT_MAX and FLT_MIN (the smallest positive normal float).
	minScore, maxScore := float32(math.MaxFloat32), math.Float32frombits(0x00800000)
	for i, p := range mp.pieces {
		if p.Text == "" {
			return nil, fmt.Errorf("piece %d is empty", i)
		}
		if seen[p.Text] {
			return nil, fmt.Errorf("piece %q (id %d) is defined twice", p.Text, i)
		}
		seen[p.Text] = true
		m.scores[i] = p.Score
		switch p.Type {
		case Normal, UserDefined, Unused:
			if key := cutAtNUL(p.Text); key != "" {
				keys = append(keys, trieKey{key, int32(i)})
			}
			if p.Type == UserDefined {
				m.userDef[i] = true
				if key := cutAtNUL(p.Text); key != "" {
					userKeys = append(userKeys, trieKey{key, int32(i)})
				}
			}
			if p.Type == Unused {
				m.unused[i] = true
			}
			if p.Type == Normal {
				if p.Score < minScore { // std::min and std::max, also for NaN
					minScore = p.Score
				}
				if maxScore < p.Score {
					maxScore = p.Score
				}
			}
		default:
			m.reserved[p.Text] = int32(i)
		}
		switch p.Type {
		case Unknown:
			if m.unkID >= 0 {
				return nil, fmt.Errorf("two <unk> pieces: ids %d and %d", m.unkID, i)
			}
			m.unkID = int32(i)
		case Byte:
			if !mp.trainer.ByteFallback {
				return nil, fmt.Errorf("byte piece %q (id %d) in a model trained without byte_fallback", p.Text, i)
			}
			c, ok := pieceToByte(p.Text)
			if !ok {
				return nil, fmt.Errorf("byte piece %q (id %d) is not of the form <0xNN>", p.Text, i)
			}
			m.byteIDs[c] = int32(i)
		}
	}
	if m.unkID < 0 {
		return nil, errors.New("the model has no UNKNOWN piece (<unk>)")
	}
	if mp.trainer.ByteFallback {
		for c, id := range m.byteIDs {
			if id < 0 {
				return nil, fmt.Errorf("byte_fallback is on but piece <0x%02X> is missing", c)
			}
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("the model has no pieces to segment text with (NORMAL, USER_DEFINED or UNUSED)")
	}
	m.maxScore = maxScore
	m.unkScore = minScore - unkPenalty
	if m.trie, err = buildByteTrie(keys); err != nil {
		return nil, fmt.Errorf("building the piece trie: %w", err)
	}
	var userTrie *byteTrie
	if len(userKeys) > 0 {
		if userTrie, err = buildByteTrie(userKeys); err != nil {
			return nil, fmt.Errorf("building the user-defined symbol trie: %w", err)
		}
	}
	if m.norm, err = newNormalizer(mp.normalizer, mp.trainer.TreatWhitespaceAsSuffix, userTrie); err != nil {
		return nil, fmt.Errorf("normalizer_spec: %w (the file is damaged: fetch or train it again)", err)
	}
	if d := mp.denormalizer; d != nil && len(d.PrecompiledCharsmap) > 0 {
		if m.denorm, err = newNormalizer(*d, false, nil); err != nil {
			return nil, fmt.Errorf("denormalizer_spec: %w (the file is damaged: fetch or train it again)", err)
		}
	}
	m.unkAccessor = m.specialID(mp.trainer.UnkPiece, Unknown)
	m.bosID = m.specialID(mp.trainer.BOSPiece, Control)
	m.eosID = m.specialID(mp.trainer.EOSPiece, Control)
	m.padID = m.specialID(mp.trainer.PadPiece, Control)
	m.bufs.New = func() any { return new(encodeBuffer) }
	return m, nil
}

// cutAtNUL returns s up to its first NUL byte: the C++ trie stores keys as C strings.
func cutAtNUL(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// specialID returns the id of the named piece if it has the given type, else -1 (as
// SentencePieceProcessor's unk_id, bos_id, eos_id and pad_id do).
func (m *Model) specialID(piece string, t PieceType) int {
	id := m.PieceToID(piece)
	if id >= 0 && m.pieces[id].Type == t {
		return id
	}
	return -1
}

// pieceToByte parses "<0xNN>" (two upper-case hex digits, as sentencepiece writes them).
func pieceToByte(s string) (byte, bool) {
	if len(s) != 6 || s[:3] != "<0x" || s[5] != '>' {
		return 0, false
	}
	var v byte
	for _, c := range []byte(s[3:5]) {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}

// VocabSize is the number of pieces; ids run from 0 to VocabSize()-1.
func (m *Model) VocabSize() int { return len(m.pieces) }

// PieceToID returns the id of a piece, or the unknown id when the model has no such piece.
func (m *Model) PieceToID(piece string) int {
	if id, ok := m.reserved[piece]; ok {
		return int(id)
	}
	if id := m.trie.lookup(piece); id >= 0 {
		return int(id)
	}
	return int(m.unkID)
}

// IDToPiece returns the text of piece id, or "" when id is out of range.
func (m *Model) IDToPiece(id int) string {
	if id < 0 || id >= len(m.pieces) {
		return ""
	}
	return m.pieces[id].Text
}

// Piece returns the vocabulary entry id; ok is false when id is out of range.
func (m *Model) Piece(id int) (p Piece, ok bool) {
	if id < 0 || id >= len(m.pieces) {
		return Piece{}, false
	}
	return m.pieces[id], true
}

// UnkID is the id of <unk> (the trainer's unk_piece), -1 when absent.
func (m *Model) UnkID() int { return m.unkAccessor }

// BOSID is the id of <s> (the trainer's bos_piece) when it is a control piece, else -1.
func (m *Model) BOSID() int { return m.bosID }

// EOSID is the id of </s> (the trainer's eos_piece) when it is a control piece, else -1.
func (m *Model) EOSID() int { return m.eosID }

// PadID is the id of <pad> (the trainer's pad_piece) when it is a control piece, else -1.
func (m *Model) PadID() int { return m.padID }

// TrainerSpec returns the training settings stored in the model.
func (m *Model) TrainerSpec() TrainerSpec { return m.trainer }

// NormalizerSpec returns the normalization settings of the model.
func (m *Model) NormalizerSpec() NormalizerSpec { return m.normSpec }

// Normalize returns text as the segmenter sees it: normalized by the model's rules, with
// spaces squeezed and escaped as ▁ according to its NormalizerSpec (what spm_normalize
// prints for the model).
func (m *Model) Normalize(text string) string {
	return string(m.norm.normalize(nil, text))
}
