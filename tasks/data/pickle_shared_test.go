package data

import (
	"bytes"
	"testing"
)

// TestUnpickleSharedAndBytesKeys: a dict with bytes keys (b'data', as Python 3 pickles
// CIFAR's batches read with encoding="bytes") is looked up by []byte or BytesKey, not by the
// str of the same text; UnpickleShared's bytes values alias the input, Unpickle's are copies.
func TestUnpickleSharedAndBytesKeys(t *testing.T) {
	// {b'data': b'abc', 'data': 7} in protocol 3.
	p := []byte("\x80\x03}q\x00(C\x04dataq\x01C\x03abcq\x02X\x04\x00\x00\x00dataK\x07u.")
	for _, shared := range []bool{false, true} {
		in := append([]byte(nil), p...)
		var v any
		var err error
		if shared {
			v, err = UnpickleShared(in)
		} else {
			v, err = Unpickle(in)
		}
		if err != nil {
			t.Fatal(err)
		}
		d := v.(*PyDict)
		got, ok := d.Get([]byte("data"))
		b, isBytes := got.([]byte)
		if !ok || !isBytes || !bytes.Equal(b, []byte("abc")) {
			t.Fatalf("b'data' → %v (%T)", got, got)
		}
		if s, _ := d.Get("data"); s != int64(7) {
			t.Errorf("'data' → %v, want 7 (str and bytes keys are distinct)", s)
		}
		if k, _ := d.Get(BytesKey("data")); !bytes.Equal(k.([]byte), b) {
			t.Errorf("BytesKey lookup differs")
		}
		i := bytes.Index(in, []byte("abc"))
		in[i] = 'X' // only a shared value sees the change
		if aliased := b[0] == 'X'; aliased != shared {
			t.Errorf("shared=%v: value aliases the input: %v", shared, aliased)
		}
		if shared && cap(b) != len(b) {
			t.Errorf("a shared value's capacity reaches past it (%d > %d): appending would overwrite the input", cap(b), len(b))
		}
	}
}
