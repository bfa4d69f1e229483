// Package sentencepiece reads SentencePiece Unigram models (spiece.model, the tokenizer of
// T5 and many other models) and tokenizes text with them exactly as the sentencepiece
// library does: the same normalization (the model's precompiled character map, whitespace
// squeezing, the dummy prefix, ▁ for spaces), the same Viterbi segmentation with the same
// tie-breaking, unknown characters, user-defined symbols and byte fallback, and the same
// decoding. It is pure Go; the model file's protobuf is decoded with protowire.
//
//	m, err := sentencepiece.Load("spiece.model")
//	ids := m.Encode("Hello world")   // as spm_encode --output_format=id
//	text := m.Decode(ids)            // as spm_decode --input_format=id
//
// Encode adds no special ids: T5 and Hugging Face's tokenizers end every sequence with </s>,
// so append m.EOSID() where the model expects it. Models of type BPE, word or char are
// refused by Load.
//
// The tests compare Encode, EncodePieces, Normalize and Decode with Debian's spm_encode,
// spm_normalize and spm_decode (sentencepiece 0.1.97) on models trained at test time.
package sentencepiece
