package data

import (
	"math/big"
	"path/filepath"
	"reflect"
	"testing"
)

func TestUnpickleOpcodes(t *testing.T) {
	big20, _ := new(big.Int).SetString("12345678901234567890", 10)
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"py2 True as INT", "\x80\x02I01\n.", true},
		{"py2 False as INT", "I00\n.", false},
		{"text INT", "I42\n.", int64(42)},
		{"text LONG", "L12345678901234567890L\n.", big20},
		{"LONG1 -1", "\x80\x02\x8a\x01\xff.", int64(-1)},
		{"LONG1 zero length", "\x80\x02\x8a\x00.", int64(0)},
		{"LONG1 256", "\x80\x02\x8a\x02\x00\x01.", int64(256)},
		{"LONG4", "\x80\x02\x8b\x02\x00\x00\x00\x00\x80.", int64(-32768)},
		{"BININT negative", "\x80\x02J\xfe\xff\xff\xff.", int64(-2)},
		{"BININT2", "M\x01\x02.", int64(0x0201)},
		{"text FLOAT", "F1.5\n.", 1.5},
		{"BINFLOAT", "\x80\x02G?\xf8\x00\x00\x00\x00\x00\x00.", 1.5},
		{"SHORT_BINSTRING", "\x80\x02U\x03abc.", "abc"},
		{"BINSTRING raw bytes", "T\x02\x00\x00\x00\xff\x00.", "\xff\x00"},
		{"BINUNICODE", "X\x03\x00\x00\x00\xc3\xa9!.", "é!"},
		{"BINBYTES", "B\x02\x00\x00\x00\x01\x02.", []byte{1, 2}},
		{"LIST", "(K\x01K\x02l.", &PyList{Items: []any{int64(1), int64(2)}}},
		{"APPEND", "]K\x05a.", &PyList{Items: []any{int64(5)}}},
		{"TUPLE", "(NK\x01t.", PyTuple{nil, int64(1)}},
		{"EMPTY_TUPLE", ").", PyTuple{}},
		{"DUP and TUPLE2", "K\x012\x86.", PyTuple{int64(1), int64(1)}},
		{"POP", "K\x07K\x080.", int64(7)},
		{"POP_MARK", "K\x07(K\x01K\x021.", int64(7)},
		{"PUT and GET", "K\x07p0\n0g0\n.", int64(7)},
		{"LONG_BINPUT and LONG_BINGET", "K\x07r\x01\x00\x00\x000j\x01\x00\x00\x00.", int64(7)},
		{"MEMOIZE", "\x80\x04K\x07\x940h\x00.", int64(7)},
		{"FRAME", "\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00N.", nil},
		{"GLOBAL", "cfoo\nBar\n.", PyGlobal{"foo", "Bar"}},
		{"STACK_GLOBAL", "\x8c\x03foo\x8c\x03Bar\x93.", PyGlobal{"foo", "Bar"}},
		{"unknown class via REDUCE", "cfoo\nBar\nK\x01\x85R.", &PyObject{Class: PyGlobal{"foo", "Bar"}, Args: PyTuple{int64(1)}}},
		{"NEWOBJ and BUILD", "cfoo\nBar\n)\x81}U\x01aK\x01sb.", &PyObject{Class: PyGlobal{"foo", "Bar"}, Args: PyTuple{},
			State: func() *PyDict { d := &PyDict{}; d.Set("a", int64(1)); return d }()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Unpickle([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestUnpickleErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "no STOP"},
		{"no STOP", "\x80\x02K\x01", "no STOP"},
		{"empty stack at STOP", "\x80\x02.", "STOP with 0 values"},
		{"protocol", "\x80\x09N.", "unsupported pickle protocol 9"},
		{"opcode", "\x80\x02\xff.", "unsupported opcode 0xff"},
		{"memo", "\x80\x02h\x05.", "memo index 5 not defined"},
		{"truncated string", "\x80\x02X\x10\x00\x00\x00ab.", "truncated"},
		{"truncated int", "\x80\x02J\x01", "truncated"},
		{"underflow", "\x80\x02a.", "stack underflow"},
		{"pop below mark", "K\x01(0.", "stack underflow"},
		{"no mark", "K\x01t.", "no MARK"},
		{"unhashable key", "}(]K\x01u.", "dict key of type *data.PyList"},
		{"append to int", "K\x01K\x02a.", "APPEND to int64"},
		{"bad utf8", "X\x01\x00\x00\x00\xff.", "invalid UTF-8"},
		{"REDUCE args", "cfoo\nbar\nK\x01R.", "not a tuple"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Unpickle([]byte(tc.in))
			mustContain(t, err, "pickle: at byte", tc.want)
		})
	}
}

// The fixtures hold the same structure pickled by Python 3 with protocols 2 and 4
// (testdata/make_pickle_fixtures.py).
func TestUnpickleFixtures(t *testing.T) {
	big70 := new(big.Int).Lsh(big.NewInt(1), 70)
	for _, name := range []string{"values_p2.pkl", "values_p4.pkl"} {
		t.Run(name, func(t *testing.T) {
			v, err := ReadPickle(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			d, ok := v.(*PyDict)
			if !ok {
				t.Fatalf("top level %T", v)
			}
			get := func(k string) any {
				x, ok := d.Get(k)
				if !ok {
					t.Fatalf("key %q missing", k)
				}
				return x
			}
			wantInts := []any{int64(0), int64(1), int64(-1), int64(255), int64(256), int64(65535), int64(65536),
				int64(-1 << 31), int64(1<<31 - 1), int64(1 << 40), int64(-1 << 63), big70}
			if got := get("ints").(*PyList).Items; !reflect.DeepEqual(got, wantInts) {
				t.Errorf("ints %v", got)
			}
			if got := get("floats"); !reflect.DeepEqual(got, PyTuple{0.5, -1e300, 3.0}) {
				t.Errorf("floats %v", got)
			}
			if got := get("flags").(*PyList).Items; !reflect.DeepEqual(got, []any{true, false, nil}) {
				t.Errorf("flags %v", got)
			}
			if got := get("text"); got != "café" {
				t.Errorf("text %q", got)
			}
			if got := get("raw"); !reflect.DeepEqual(got, []byte{0, 0xff, 'a', 'b'}) {
				t.Errorf("raw %#v", got)
			}
			f32 := get("f32").(*NDArray)
			vals, err := f32.Float32s()
			if err != nil || !reflect.DeepEqual(f32.Shape, []int{2, 3}) || !reflect.DeepEqual(vals, []float32{1.5, -2, 0, 4, 5.25, -6}) {
				t.Errorf("f32 %v %v %v", f32.Shape, vals, err)
			}
			if got, err := get("i64").(*NDArray).Int64s(); err != nil || !reflect.DeepEqual(got, []int64{3, -4, 1 << 40}) {
				t.Errorf("i64 %v %v", got, err)
			}
			if got, err := get("i32").(*NDArray).Values(); err != nil || !reflect.DeepEqual(got, []int32{7, -8}) {
				t.Errorf("i32 %v %v", got, err)
			}
			if got := get("scalar"); got != 2.5 {
				t.Errorf("scalar %#v", got)
			}
			m, err := denseFromCSR(get("csr").(*PyObject))
			if err != nil || m.rows != 4 || m.cols != 3 || !reflect.DeepEqual(m.data, []float32{0, 1.5, 0, 2, 0, 0, 0, 0, 0, 0, 0, -3}) {
				t.Errorf("csr %+v %v", m, err)
			}
			adj := get("adj").(*PyDict)
			// Protocol 2 spells Python 3's builtins with the Python 2 module name.
			if g, _ := adj.Default.(PyGlobal); g.Name != "list" || !reflect.DeepEqual(adj.Keys, []any{int64(3), int64(7)}) {
				t.Errorf("defaultdict %+v", adj)
			}
			if l, _ := adj.Get(int64(3)); !reflect.DeepEqual(l.(*PyList).Items, []any{int64(1), int64(2)}) {
				t.Errorf("adj[3] %v", l)
			}
			shared := get("shared").(*PyList).Items
			if len(shared) != 2 || shared[0] != shared[1] {
				t.Errorf("shared list should be one object twice: %v", shared)
			}
			if got := get("set"); !reflect.DeepEqual(got, &PySet{Items: []any{int64(4)}}) {
				t.Errorf("set %#v", got)
			}
		})
	}
}

// A Planetoid file as Python 2 wrote it: a scipy CSR matrix rebuilt through NEWOBJ and BUILD
// with numpy arrays of raw Python 2 strings inside.
func TestUnpicklePython2CSR(t *testing.T) {
	v, err := ReadPickle(filepath.Join(mirror(t), "cora", "ind.cora.x"))
	if err != nil {
		t.Fatal(err)
	}
	o, ok := v.(*PyObject)
	if !ok || o.Class != (PyGlobal{"scipy.sparse.csr", "csr_matrix"}) {
		t.Fatalf("got %#v", v)
	}
	if f, _ := o.Attr("format"); f != "csr" {
		t.Errorf("format %v", f)
	}
	if s, _ := o.Attr("_shape"); !reflect.DeepEqual(s, PyTuple{int64(140), int64(1433)}) {
		t.Errorf("_shape %v", s)
	}
	data, _ := o.Attr("data")
	if a := data.(*NDArray); a.Dtype.Descr() != "<f4" || !reflect.DeepEqual(a.Shape, []int{2647}) {
		t.Errorf("data %s %v", a.Dtype.Descr(), a.Shape)
	}
}
