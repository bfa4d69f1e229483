package sentencepiece

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// PieceType is the kind of a vocabulary entry (ModelProto.SentencePiece.Type).
type PieceType int32

// The piece types, with the numbers sentencepiece_model.proto gives them.
const (
	Normal      PieceType = 1 // an ordinary subword, found by the Viterbi search
	Unknown     PieceType = 2 // <unk>: stands for characters no piece covers
	Control     PieceType = 3 // <s>, </s>, <pad>, ...: never produced by encoding, dropped by decoding
	UserDefined PieceType = 4 // always kept whole when it occurs in the text, never normalized
	Unused      PieceType = 5 // in the vocabulary but never produced by encoding
	Byte        PieceType = 6 // <0xNN>: one byte of an unknown character under byte_fallback
)

// String names the type as the proto does.
func (t PieceType) String() string {
	switch t {
	case Normal:
		return "NORMAL"
	case Unknown:
		return "UNKNOWN"
	case Control:
		return "CONTROL"
	case UserDefined:
		return "USER_DEFINED"
	case Unused:
		return "UNUSED"
	case Byte:
		return "BYTE"
	}
	return fmt.Sprintf("PieceType(%d)", int32(t))
}

// ModelType is the segmentation algorithm a model was trained for (TrainerSpec.model_type).
type ModelType int32

// The model types of sentencepiece_model.proto. Only Unigram is implemented here.
const (
	Unigram ModelType = 1
	BPE     ModelType = 2
	Word    ModelType = 3
	Char    ModelType = 4
)

// String names the model type as spm_train's --model_type flag does.
func (t ModelType) String() string {
	switch t {
	case Unigram:
		return "unigram"
	case BPE:
		return "bpe"
	case Word:
		return "word"
	case Char:
		return "char"
	}
	return fmt.Sprintf("ModelType(%d)", int32(t))
}

// Piece is one vocabulary entry; its id is its index in the model.
type Piece struct {
	Text  string
	Score float32
	Type  PieceType
}

// TrainerSpec holds the training settings stored in a model that matter for encoding and
// decoding. Absent fields take the proto's defaults.
type TrainerSpec struct {
	ModelType ModelType
	VocabSize int

	// The ids spm_train was asked to give the special pieces (-1: none). The model's
	// pieces are what counts: Model.UnkID and the like look the pieces up by name.
	UnkID, BOSID, EOSID, PadID int

	// The names of the special pieces (<unk>, <s>, </s>, <pad> by default).
	UnkPiece, BOSPiece, EOSPiece, PadPiece string

	UnkSurface              string // what Decode writes for <unk> (default " ⁇ ")
	ByteFallback            bool   // unknown characters become <0xNN> byte pieces
	TreatWhitespaceAsSuffix bool   // the dummy space goes at the end, not the front
	SplitDigits             bool   // informational: training split digits apart
	UserDefinedSymbols      []string
	ControlSymbols          []string
}

// NormalizerSpec holds the text normalization settings of a model.
type NormalizerSpec struct {
	Name                   string // nmt_nfkc, nfkc, identity, ... (informational)
	PrecompiledCharsmap    []byte // the compiled rules; empty means no character mapping
	AddDummyPrefix         bool
	RemoveExtraWhitespaces bool
	EscapeWhitespaces      bool
}

// Field numbers of sentencepiece_model.proto.
const (
	fModelPieces       = 1
	fModelTrainer      = 2
	fModelNormalizer   = 3
	fModelDenormalizer = 5

	fPieceText  = 1
	fPieceScore = 2
	fPieceType  = 3

	fTrainerModelType          = 3
	fTrainerVocabSize          = 4
	fTrainerTreatWSAsSuffix    = 24
	fTrainerSplitDigits        = 25
	fTrainerControlSymbols     = 30
	fTrainerUserDefinedSymbols = 31
	fTrainerByteFallback       = 35
	fTrainerUnkID              = 40
	fTrainerBOSID              = 41
	fTrainerEOSID              = 42
	fTrainerPadID              = 43
	fTrainerUnkSurface         = 44
	fTrainerUnkPiece           = 45
	fTrainerBOSPiece           = 46
	fTrainerEOSPiece           = 47
	fTrainerPadPiece           = 48

	fNormName              = 1
	fNormCharsmap          = 2
	fNormAddDummyPrefix    = 3
	fNormRemoveExtraSpaces = 4
	fNormEscapeWhitespaces = 5
)

const (
	defaultUnkSurface = " \u2047 " // U+2047 DOUBLE QUESTION MARK between spaces
	maxPieces         = 1 << 24    // far above any real vocabulary; guards corrupt input
)

// modelProto is the decoded ModelProto.
type modelProto struct {
	pieces       []Piece
	trainer      TrainerSpec
	normalizer   NormalizerSpec
	denormalizer *NormalizerSpec // nil when the model has none
}

func defaultTrainerSpec() TrainerSpec {
	return TrainerSpec{
		ModelType: Unigram, VocabSize: 8000,
		UnkID: 0, BOSID: 1, EOSID: 2, PadID: -1,
		UnkPiece: "<unk>", BOSPiece: "<s>", EOSPiece: "</s>", PadPiece: "<pad>",
		UnkSurface: defaultUnkSurface,
	}
}

func defaultNormalizerSpec() NormalizerSpec {
	return NormalizerSpec{AddDummyPrefix: true, RemoveExtraWhitespaces: true, EscapeWhitespaces: true}
}

// wireField is one decoded field of a protobuf message: its number, wire type and payload
// (varint value, fixed32 bits or the bytes of a length-delimited field).
type wireField struct {
	num   protowire.Number
	typ   protowire.Type
	u     uint64
	bytes []byte
}

// eachField calls fn for every field of the serialized message b. Groups and fixed64 values
// are skipped like any unknown field; malformed wire data is an error naming the message.
func eachField(b []byte, msg string, fn func(f wireField) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("malformed %s: %w", msg, protowire.ParseError(n))
		}
		b = b[n:]
		f := wireField{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.u, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.u = uint64(v)
		case protowire.BytesType:
			f.bytes, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("malformed %s field %d: %w", msg, num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// Typed readers: a field whose wire type does not match the schema is ignored, as protobuf
// parsers treat it as an unknown field.
func (f wireField) isVarint() bool  { return f.typ == protowire.VarintType }
func (f wireField) isBytes() bool   { return f.typ == protowire.BytesType }
func (f wireField) isFixed32() bool { return f.typ == protowire.Fixed32Type }
func (f wireField) int32() int      { return int(int32(f.u)) } // proto int32: low 32 bits, signed
func (f wireField) bool() bool      { return f.u != 0 }

// parseModelProto decodes a serialized sentencepiece ModelProto.
func parseModelProto(b []byte) (*modelProto, error) {
	mp := &modelProto{trainer: defaultTrainerSpec(), normalizer: defaultNormalizerSpec()}
	err := eachField(b, "ModelProto", func(f wireField) error {
		if !f.isBytes() {
			return nil
		}
		switch f.num {
		case fModelPieces:
			if len(mp.pieces) >= maxPieces {
				return fmt.Errorf("more than %d pieces", maxPieces)
			}
			p, err := parsePiece(f.bytes, len(mp.pieces))
			if err != nil {
				return err
			}
			mp.pieces = append(mp.pieces, p)
		case fModelTrainer:
			return parseTrainerSpec(f.bytes, &mp.trainer)
		case fModelNormalizer:
			return parseNormalizerSpec(f.bytes, &mp.normalizer, "normalizer_spec")
		case fModelDenormalizer:
			if mp.denormalizer == nil {
				d := defaultNormalizerSpec()
				mp.denormalizer = &d
			}
			return parseNormalizerSpec(f.bytes, mp.denormalizer, "denormalizer_spec")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return mp, nil
}

func parsePiece(b []byte, index int) (Piece, error) {
	p := Piece{Type: Normal}
	msg := fmt.Sprintf("piece %d", index)
	err := eachField(b, msg, func(f wireField) error {
		switch {
		case f.num == fPieceText && f.isBytes():
			p.Text = string(f.bytes)
		case f.num == fPieceScore && f.isFixed32():
			p.Score = math.Float32frombits(uint32(f.u))
		case f.num == fPieceType && f.isVarint():
			t := PieceType(int32(f.u))
			if t < Normal || t > Byte {
				return fmt.Errorf("%s (%q) has unknown type %d", msg, p.Text, int32(f.u))
			}
			p.Type = t
		}
		return nil
	})
	return p, err
}

func parseTrainerSpec(b []byte, t *TrainerSpec) error {
	return eachField(b, "trainer_spec", func(f wireField) error {
		if f.isVarint() {
			switch f.num {
			case fTrainerModelType:
				t.ModelType = ModelType(int32(f.u))
			case fTrainerVocabSize:
				t.VocabSize = f.int32()
			case fTrainerTreatWSAsSuffix:
				t.TreatWhitespaceAsSuffix = f.bool()
			case fTrainerSplitDigits:
				t.SplitDigits = f.bool()
			case fTrainerByteFallback:
				t.ByteFallback = f.bool()
			case fTrainerUnkID:
				t.UnkID = f.int32()
			case fTrainerBOSID:
				t.BOSID = f.int32()
			case fTrainerEOSID:
				t.EOSID = f.int32()
			case fTrainerPadID:
				t.PadID = f.int32()
			}
			return nil
		}
		if !f.isBytes() {
			return nil
		}
		switch f.num {
		case fTrainerControlSymbols:
			t.ControlSymbols = append(t.ControlSymbols, string(f.bytes))
		case fTrainerUserDefinedSymbols:
			t.UserDefinedSymbols = append(t.UserDefinedSymbols, string(f.bytes))
		case fTrainerUnkSurface:
			t.UnkSurface = string(f.bytes)
		case fTrainerUnkPiece:
			t.UnkPiece = string(f.bytes)
		case fTrainerBOSPiece:
			t.BOSPiece = string(f.bytes)
		case fTrainerEOSPiece:
			t.EOSPiece = string(f.bytes)
		case fTrainerPadPiece:
			t.PadPiece = string(f.bytes)
		}
		return nil
	})
}

func parseNormalizerSpec(b []byte, n *NormalizerSpec, msg string) error {
	return eachField(b, msg, func(f wireField) error {
		switch {
		case f.num == fNormName && f.isBytes():
			n.Name = string(f.bytes)
		case f.num == fNormCharsmap && f.isBytes():
			n.PrecompiledCharsmap = append([]byte(nil), f.bytes...)
		case f.num == fNormAddDummyPrefix && f.isVarint():
			n.AddDummyPrefix = f.bool()
		case f.num == fNormRemoveExtraSpaces && f.isVarint():
			n.RemoveExtraWhitespaces = f.bool()
		case f.num == fNormEscapeWhitespaces && f.isVarint():
			n.EscapeWhitespaces = f.bool()
		}
		return nil
	})
}
