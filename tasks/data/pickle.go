package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A small Python pickle decoder: enough of the pickle virtual machine (protocols 2 to 4 and the
// text opcodes Python 2 still emits for small values) to read data files, building generic
// values, and interpreting the numpy and scipy objects data sets are stored as.
//
// Values map as follows: None → nil, bool → bool, int → int64 (or *big.Int beyond int64),
// float → float64, Python 2 str and Python 3 str → string (a Python 2 str keeps its raw bytes,
// which is what reading it with encoding="latin1" and encoding back amounts to), bytes →
// []byte, tuple → PyTuple, list → *PyList, dict → *PyDict, set → *PySet, a global reference →
// PyGlobal, numpy arrays → *NDArray, numpy dtypes → *NumpyDtype, other objects → *PyObject.

// PyGlobal is a reference to a module-level Python name, usually a class or function.
type PyGlobal struct{ Module, Name string }

// String is the dotted name, e.g. "numpy.dtype".
func (g PyGlobal) String() string { return g.Module + "." + g.Name }

// PyTuple is a Python tuple.
type PyTuple []any

// PyList is a Python list (a pointer, as lists are mutable and shared through the memo).
type PyList struct{ Items []any }

// PySet is a Python set or frozenset.
type PySet struct{ Items []any }

// PyDict is a Python dict with its insertion order. Keys must be None, bool, int, float, str or
// bytes (stored as BytesKey).
type PyDict struct {
	Keys, Values []any
	// Default is the default_factory of a collections.defaultdict (nil for a plain dict).
	Default any
	index   map[any]int
}

// Get returns the value stored under key.
func (d *PyDict) Get(key any) (any, bool) {
	if b, ok := key.([]byte); ok {
		key = BytesKey(b)
	}
	i, ok := d.index[key]
	if !ok {
		return nil, false
	}
	return d.Values[i], true
}

// BytesKey is a Python bytes dict key (e.g. b'data' in CIFAR's batches read under Python 3
// rules), kept apart from the str key of the same text.
type BytesKey string

// Set stores value under key, keeping the first insertion position as Python does.
// A []byte key is stored as a BytesKey.
func (d *PyDict) Set(key, value any) error {
	if b, ok := key.([]byte); ok {
		key = BytesKey(b)
	}
	switch key.(type) {
	case nil, bool, int64, float64, string, BytesKey, PyGlobal:
	default:
		return fmt.Errorf("pickle: dict key of type %T is not supported", key)
	}
	if d.index == nil {
		d.index = map[any]int{}
	}
	if i, ok := d.index[key]; ok {
		d.Values[i] = value
		return nil
	}
	d.index[key] = len(d.Keys)
	d.Keys = append(d.Keys, key)
	d.Values = append(d.Values, value)
	return nil
}

// Len is the number of entries.
func (d *PyDict) Len() int { return len(d.Keys) }

// PyObject is an instance of a class the decoder does not interpret: its class, the constructor
// arguments and the state BUILD gave it (usually a *PyDict of attributes).
type PyObject struct {
	Class PyGlobal
	Args  PyTuple
	State any
}

// Attr returns an attribute from the object's state dict (also from the dict of a (dict, slots)
// state tuple).
func (o *PyObject) Attr(name string) (any, bool) {
	switch s := o.State.(type) {
	case *PyDict:
		return s.Get(name)
	case PyTuple:
		for _, part := range s {
			if d, ok := part.(*PyDict); ok {
				if v, ok := d.Get(name); ok {
					return v, true
				}
			}
		}
	}
	return nil, false
}

// NumpyDtype is a numpy dtype as pickled: a type name such as "f4" and a byte order.
type NumpyDtype struct {
	Name      string
	ByteOrder string // "<", ">", "|" or "=" (from the dtype's state)
}

// Descr is the array-protocol type string, e.g. "<f4".
func (d *NumpyDtype) Descr() string {
	bo := d.ByteOrder
	if bo == "" || bo == "=" {
		bo = "<"
	}
	return bo + d.Name
}

// NDArray is a numpy ndarray as pickled: shape, dtype, memory order and raw bytes.
type NDArray struct {
	Shape   []int
	Dtype   *NumpyDtype
	Fortran bool
	Raw     []byte
}

// Size is the number of elements.
func (a *NDArray) Size() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// Values decodes the elements (C order) into a typed slice as ReadNPY does.
func (a *NDArray) Values() (any, error) {
	if a.Dtype == nil {
		return nil, fmt.Errorf("pickle: ndarray without dtype")
	}
	if a.Fortran && len(a.Shape) > 1 {
		return nil, fmt.Errorf("pickle: fortran-order ndarray is not supported")
	}
	dt, err := parseDtype(a.Dtype.Descr())
	if err != nil {
		return nil, fmt.Errorf("pickle: ndarray: %w", err)
	}
	if want := a.Size() * dt.size; len(a.Raw) != want {
		return nil, fmt.Errorf("pickle: ndarray %v %s holds %d bytes, needs %d", a.Shape, a.Dtype.Descr(), len(a.Raw), want)
	}
	return decodeRaw(a.Raw, dt)
}

// Int64s decodes an integer array.
func (a *NDArray) Int64s() ([]int64, error) {
	v, err := a.Values()
	if err != nil {
		return nil, err
	}
	return AsInt64s(v)
}

// Float32s decodes a numeric array, converting to float32.
func (a *NDArray) Float32s() ([]float32, error) {
	v, err := a.Values()
	if err != nil {
		return nil, err
	}
	return AsFloat32s(v)
}

// ReadPickle decodes the pickle file at path.
func ReadPickle(path string) (any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	v, err := Unpickle(b)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return v, nil
}

// Unpickle decodes one pickle from b. Opcodes that run arbitrary code in Python (REDUCE,
// NEWOBJ, BUILD) only ever build the values described above.
func Unpickle(b []byte) (any, error) {
	u := unpickler{b: b, memo: map[int]any{}}
	return u.run()
}

// UnpickleShared is Unpickle whose Python 3 bytes values (and so numpy arrays' Raw) are slices
// of b rather than copies: for a memory-mapped file, a gigabyte array then stays in the page
// cache instead of the heap. b must outlive, and not change under, the values returned.
func UnpickleShared(b []byte) (any, error) {
	u := unpickler{b: b, memo: map[int]any{}, shared: true}
	return u.run()
}

type unpickler struct {
	b     []byte
	pos   int
	stack []any
	marks []int
	memo  map[int]any
	// shared makes bytes values alias b (UnpickleShared).
	shared bool
}

type pickleError struct {
	pos int
	msg string
}

func (e *pickleError) Error() string { return fmt.Sprintf("pickle: at byte %d: %s", e.pos, e.msg) }

func (u *unpickler) fail(format string, args ...any) error {
	return &pickleError{pos: u.pos, msg: fmt.Sprintf(format, args...)}
}

func (u *unpickler) read(n int) ([]byte, error) {
	if n < 0 || u.pos+n > len(u.b) {
		return nil, u.fail("truncated: need %d more bytes, %d left", n, len(u.b)-u.pos)
	}
	s := u.b[u.pos : u.pos+n]
	u.pos += n
	return s, nil
}

func (u *unpickler) readLine() (string, error) {
	i := bytes.IndexByte(u.b[u.pos:], '\n') // no string conversion: b may be a large mapped file
	if i < 0 {
		return "", u.fail("truncated: unterminated line")
	}
	s := string(u.b[u.pos : u.pos+i])
	u.pos += i + 1
	return s, nil
}

func (u *unpickler) uint(n int) (uint64, error) {
	s, err := u.read(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(s[i])
	}
	return v, nil
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop() (any, error) {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) <= u.marks[len(u.marks)-1]) {
		return nil, u.fail("stack underflow")
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	if len(u.stack) == 0 {
		return nil, u.fail("stack underflow")
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark pops everything above the last MARK.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, u.fail("no MARK on the stack")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

func (u *unpickler) popN(n int) ([]any, error) {
	items := make([]any, n)
	for i := n - 1; i >= 0; i-- {
		v, err := u.pop()
		if err != nil {
			return nil, err
		}
		items[i] = v
	}
	return items, nil
}

func (u *unpickler) run() (any, error) {
	for {
		if u.pos >= len(u.b) {
			return nil, u.fail("truncated: no STOP opcode")
		}
		op := u.b[u.pos]
		u.pos++
		if err := u.step(op); err != nil {
			if err == errStop {
				if len(u.stack) != 1 {
					return nil, u.fail("STOP with %d values on the stack", len(u.stack))
				}
				return u.stack[0], nil
			}
			return nil, err
		}
	}
}

var errStop = fmt.Errorf("stop")

func (u *unpickler) step(op byte) error {
	switch op {
	case 0x80: // PROTO
		p, err := u.read(1)
		if err != nil {
			return err
		}
		if p[0] > 5 {
			return u.fail("unsupported pickle protocol %d", p[0])
		}
	case 0x95: // FRAME: framing is only a hint for buffered readers
		_, err := u.read(8)
		return err
	case '.': // STOP
		return errStop
	case '(': // MARK
		u.marks = append(u.marks, len(u.stack))
	case '0': // POP
		_, err := u.pop()
		return err
	case '1': // POP_MARK
		_, err := u.popMark()
		return err
	case '2': // DUP
		v, err := u.top()
		if err != nil {
			return err
		}
		u.push(v)
	case 'N':
		u.push(nil)
	case 0x88:
		u.push(true)
	case 0x89:
		u.push(false)
	case 'J': // BININT
		v, err := u.uint(4)
		if err != nil {
			return err
		}
		u.push(int64(int32(uint32(v))))
	case 'K': // BININT1
		v, err := u.uint(1)
		if err != nil {
			return err
		}
		u.push(int64(v))
	case 'M': // BININT2
		v, err := u.uint(2)
		if err != nil {
			return err
		}
		u.push(int64(v))
	case 0x8a, 0x8b: // LONG1, LONG4
		size := 1
		if op == 0x8b {
			size = 4
		}
		n, err := u.uint(size)
		if err != nil {
			return err
		}
		s, err := u.read(int(n))
		if err != nil {
			return err
		}
		u.push(decodeLong(s))
	case 'I', 'L': // INT, LONG (text): Python 2 writes True/False as I01/I00
		line, err := u.readLine()
		if err != nil {
			return err
		}
		switch line {
		case "01":
			u.push(true)
			return nil
		case "00":
			u.push(false)
			return nil
		}
		z, ok := new(big.Int).SetString(strings.TrimSuffix(line, "L"), 10)
		if !ok {
			return u.fail("bad integer %q", line)
		}
		u.push(normInt(z))
	case 'F': // FLOAT (text)
		line, err := u.readLine()
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(line, 64)
		if err != nil {
			return u.fail("bad float %q", line)
		}
		u.push(f)
	case 'G': // BINFLOAT (big-endian)
		s, err := u.read(8)
		if err != nil {
			return err
		}
		u.push(math.Float64frombits(binary.BigEndian.Uint64(s)))
	case 'T', 'U', 'X', 0x8c, 0x8d, 'B', 'C', 0x8e: // strings and bytes
		size := map[byte]int{'T': 4, 'U': 1, 'X': 4, 0x8c: 1, 0x8d: 8, 'B': 4, 'C': 1, 0x8e: 8}[op]
		n, err := u.uint(size)
		if err != nil {
			return err
		}
		if n > uint64(len(u.b)) {
			return u.fail("truncated: string of %d bytes", n)
		}
		s, err := u.read(int(n))
		if err != nil {
			return err
		}
		switch op {
		case 'B', 'C', 0x8e:
			if u.shared {
				u.push(s[:len(s):len(s)])
			} else {
				u.push(append([]byte(nil), s...))
			}
		case 'X', 0x8c, 0x8d:
			if !utf8.Valid(s) {
				return u.fail("invalid UTF-8 in unicode string")
			}
			u.push(string(s))
		default:
			u.push(string(s))
		}
	case ')':
		u.push(PyTuple{})
	case 't':
		items, err := u.popMark()
		if err != nil {
			return err
		}
		u.push(PyTuple(items))
	case 0x85, 0x86, 0x87: // TUPLE1..3
		items, err := u.popN(int(op - 0x84))
		if err != nil {
			return err
		}
		u.push(PyTuple(items))
	case ']':
		u.push(&PyList{})
	case 'l': // LIST
		items, err := u.popMark()
		if err != nil {
			return err
		}
		u.push(&PyList{Items: items})
	case 'a', 'e': // APPEND, APPENDS
		var items []any
		var err error
		if op == 'a' {
			items, err = u.popN(1)
		} else {
			items, err = u.popMark()
		}
		if err != nil {
			return err
		}
		t, err := u.top()
		if err != nil {
			return err
		}
		l, ok := t.(*PyList)
		if !ok {
			return u.fail("APPEND to %T", t)
		}
		l.Items = append(l.Items, items...)
	case '}':
		u.push(&PyDict{})
	case 'd': // DICT
		items, err := u.popMark()
		if err != nil {
			return err
		}
		d := &PyDict{}
		if err := u.setItems(d, items); err != nil {
			return err
		}
		u.push(d)
	case 's', 'u': // SETITEM, SETITEMS
		var items []any
		var err error
		if op == 's' {
			items, err = u.popN(2)
		} else {
			items, err = u.popMark()
		}
		if err != nil {
			return err
		}
		t, err := u.top()
		if err != nil {
			return err
		}
		d, ok := t.(*PyDict)
		if !ok {
			return u.fail("SETITEM on %T", t)
		}
		return u.setItems(d, items)
	case 0x8f: // EMPTY_SET
		u.push(&PySet{})
	case 0x90: // ADDITEMS
		items, err := u.popMark()
		if err != nil {
			return err
		}
		t, err := u.top()
		if err != nil {
			return err
		}
		s, ok := t.(*PySet)
		if !ok {
			return u.fail("ADDITEMS to %T", t)
		}
		s.Items = append(s.Items, items...)
	case 0x91: // FROZENSET
		items, err := u.popMark()
		if err != nil {
			return err
		}
		u.push(&PySet{Items: items})
	case 'c': // GLOBAL
		mod, err := u.readLine()
		if err != nil {
			return err
		}
		name, err := u.readLine()
		if err != nil {
			return err
		}
		u.push(PyGlobal{Module: mod, Name: name})
	case 0x93: // STACK_GLOBAL
		items, err := u.popN(2)
		if err != nil {
			return err
		}
		mod, ok1 := items[0].(string)
		name, ok2 := items[1].(string)
		if !ok1 || !ok2 {
			return u.fail("STACK_GLOBAL needs two strings")
		}
		u.push(PyGlobal{Module: mod, Name: name})
	case 'R': // REDUCE
		items, err := u.popN(2)
		if err != nil {
			return err
		}
		args, ok := items[1].(PyTuple)
		if !ok {
			return u.fail("REDUCE arguments are %T, not a tuple", items[1])
		}
		v, err := u.reduce(items[0], args)
		if err != nil {
			return err
		}
		u.push(v)
	case 0x81: // NEWOBJ: cls.__new__(cls, *args)
		items, err := u.popN(2)
		if err != nil {
			return err
		}
		cls, ok1 := items[0].(PyGlobal)
		args, ok2 := items[1].(PyTuple)
		if !ok1 || !ok2 {
			return u.fail("NEWOBJ needs a class and a tuple")
		}
		u.push(newObject(cls, args))
	case 0x92: // NEWOBJ_EX: keyword arguments are kept out of the generic object
		items, err := u.popN(3)
		if err != nil {
			return err
		}
		cls, ok1 := items[0].(PyGlobal)
		args, ok2 := items[1].(PyTuple)
		if !ok1 || !ok2 {
			return u.fail("NEWOBJ_EX needs a class and a tuple")
		}
		u.push(newObject(cls, args))
	case 'b': // BUILD
		state, err := u.pop()
		if err != nil {
			return err
		}
		obj, err := u.top()
		if err != nil {
			return err
		}
		return u.build(obj, state)
	case 'q', 'r', 0x94, 'p': // BINPUT, LONG_BINPUT, MEMOIZE, PUT
		var idx int
		switch op {
		case 'q':
			v, err := u.uint(1)
			if err != nil {
				return err
			}
			idx = int(v)
		case 'r':
			v, err := u.uint(4)
			if err != nil {
				return err
			}
			idx = int(v)
		case 0x94:
			idx = len(u.memo)
		case 'p':
			line, err := u.readLine()
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(line)
			if err != nil {
				return u.fail("bad PUT index %q", line)
			}
			idx = n
		}
		v, err := u.top()
		if err != nil {
			return err
		}
		u.memo[idx] = v
	case 'h', 'j', 'g': // BINGET, LONG_BINGET, GET
		var idx int
		switch op {
		case 'h':
			v, err := u.uint(1)
			if err != nil {
				return err
			}
			idx = int(v)
		case 'j':
			v, err := u.uint(4)
			if err != nil {
				return err
			}
			idx = int(v)
		case 'g':
			line, err := u.readLine()
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(line)
			if err != nil {
				return u.fail("bad GET index %q", line)
			}
			idx = n
		}
		v, ok := u.memo[idx]
		if !ok {
			return u.fail("memo index %d not defined", idx)
		}
		u.push(v)
	default:
		return u.fail("unsupported opcode 0x%02x (%q)", op, rune(op))
	}
	return nil
}

func (u *unpickler) setItems(d *PyDict, items []any) error {
	if len(items)%2 != 0 {
		return u.fail("odd number of dict items")
	}
	for i := 0; i < len(items); i += 2 {
		if err := d.Set(items[i], items[i+1]); err != nil {
			return u.fail("%v", err)
		}
	}
	return nil
}

// decodeLong decodes a little-endian two's complement integer.
func decodeLong(s []byte) any {
	z := new(big.Int)
	be := make([]byte, len(s))
	for i := range s {
		be[len(s)-1-i] = s[i]
	}
	z.SetBytes(be)
	if len(s) > 0 && s[len(s)-1]&0x80 != 0 {
		z.Sub(z, new(big.Int).Lsh(big.NewInt(1), uint(8*len(s))))
	}
	return normInt(z)
}

func normInt(z *big.Int) any {
	if z.IsInt64() {
		return z.Int64()
	}
	return z
}

func newObject(cls PyGlobal, args PyTuple) any {
	switch cls.String() {
	case "collections.OrderedDict", "__builtin__.dict", "builtins.dict":
		return &PyDict{}
	case "__builtin__.list", "builtins.list":
		return &PyList{}
	}
	return &PyObject{Class: cls, Args: args}
}

// reduce applies callable to args for the callables data pickles use; any other class becomes a
// generic PyObject.
func (u *unpickler) reduce(callable any, args PyTuple) (any, error) {
	g, ok := callable.(PyGlobal)
	if !ok {
		return nil, u.fail("REDUCE of %T, not a global", callable)
	}
	switch g.String() {
	case "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct":
		return &NDArray{}, nil
	case "numpy.dtype":
		if len(args) < 1 {
			return nil, u.fail("numpy.dtype without arguments")
		}
		name, ok := args[0].(string)
		if !ok {
			return nil, u.fail("numpy.dtype(%T)", args[0])
		}
		return &NumpyDtype{Name: name}, nil
	case "collections.defaultdict":
		d := &PyDict{}
		if len(args) > 0 {
			d.Default = args[0]
		}
		return d, nil
	case "collections.OrderedDict", "__builtin__.dict", "builtins.dict":
		d := &PyDict{}
		if len(args) > 0 {
			if err := u.fillDict(d, args[0]); err != nil {
				return nil, err
			}
		}
		return d, nil
	case "copy_reg._reconstructor", "copyreg._reconstructor":
		if len(args) < 1 {
			return nil, u.fail("_reconstructor without a class")
		}
		cls, ok := args[0].(PyGlobal)
		if !ok {
			return nil, u.fail("_reconstructor of %T", args[0])
		}
		return newObject(cls, nil), nil
	case "__builtin__.set", "builtins.set", "__builtin__.frozenset", "builtins.frozenset":
		s := &PySet{}
		if len(args) > 0 {
			l, ok := args[0].(*PyList)
			if !ok {
				return nil, u.fail("set(%T)", args[0])
			}
			s.Items = append(s.Items, l.Items...)
		}
		return s, nil
	case "_codecs.encode":
		// Python 3 writes bytes in protocol 2 as _codecs.encode(text, "latin1").
		if len(args) != 2 {
			return nil, u.fail("_codecs.encode with %d arguments", len(args))
		}
		text, ok1 := args[0].(string)
		enc, ok2 := args[1].(string)
		if !ok1 || !ok2 || (enc != "latin1" && enc != "latin-1") {
			return nil, u.fail("unsupported _codecs.encode(%T, %v)", args[0], args[1])
		}
		out := make([]byte, 0, len(text))
		for _, r := range text {
			if r > 0xff {
				return nil, u.fail("character %U is not latin1", r)
			}
			out = append(out, byte(r))
		}
		return out, nil
	case "__builtin__.bytes", "builtins.bytes":
		if len(args) == 0 {
			return []byte{}, nil
		}
	case "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar":
		if len(args) != 2 {
			return nil, u.fail("numpy scalar with %d arguments", len(args))
		}
		dt, ok := args[0].(*NumpyDtype)
		if !ok {
			return nil, u.fail("numpy scalar of %T", args[0])
		}
		raw, err := rawBytes(args[1])
		if err != nil {
			return nil, u.fail("numpy scalar: %v", err)
		}
		a := &NDArray{Shape: nil, Dtype: dt, Raw: raw}
		v, err := a.Values()
		if err != nil {
			return nil, u.fail("%v", err)
		}
		return scalarOf(v), nil
	}
	return &PyObject{Class: g, Args: args}, nil
}

func (u *unpickler) fillDict(d *PyDict, src any) error {
	switch s := src.(type) {
	case *PyDict:
		for i, k := range s.Keys {
			if err := d.Set(k, s.Values[i]); err != nil {
				return u.fail("%v", err)
			}
		}
	case *PyList:
		for _, it := range s.Items {
			kv, ok := it.(PyTuple)
			if !ok || len(kv) != 2 {
				return u.fail("dict from a list of %T", it)
			}
			if err := d.Set(kv[0], kv[1]); err != nil {
				return u.fail("%v", err)
			}
		}
	default:
		return u.fail("dict(%T)", src)
	}
	return nil
}

func scalarOf(v any) any {
	switch s := v.(type) {
	case []float32:
		return float64(s[0])
	case []float64:
		return s[0]
	}
	if ints, err := AsInt64s(v); err == nil && len(ints) == 1 {
		return ints[0]
	}
	return v
}

func rawBytes(v any) ([]byte, error) {
	switch s := v.(type) {
	case string:
		return []byte(s), nil
	case []byte:
		return s, nil
	}
	return nil, fmt.Errorf("raw data is %T, not bytes", v)
}

func (u *unpickler) build(obj, state any) error {
	switch o := obj.(type) {
	case *NDArray:
		// ndarray.__setstate__((version, shape, dtype, is_fortran, rawdata)); old pickles omit
		// the version.
		st, ok := state.(PyTuple)
		if ok && len(st) == 5 {
			st = st[1:]
		}
		if !ok || len(st) != 4 {
			return u.fail("ndarray state is %T of length %d, want a 4- or 5-tuple", state, len(st))
		}
		shapeT, ok := st[0].(PyTuple)
		if !ok {
			return u.fail("ndarray shape is %T", st[0])
		}
		o.Shape = make([]int, len(shapeT))
		for i, d := range shapeT {
			n, ok := d.(int64)
			if !ok || n < 0 {
				return u.fail("ndarray dimension %v", d)
			}
			o.Shape[i] = int(n)
		}
		if o.Dtype, ok = st[1].(*NumpyDtype); !ok {
			return u.fail("ndarray dtype is %T", st[1])
		}
		o.Fortran, _ = st[2].(bool)
		raw, err := rawBytes(st[3])
		if err != nil {
			return u.fail("ndarray of dtype %s: %v (object arrays are not supported)", o.Dtype.Descr(), err)
		}
		o.Raw = raw
	case *NumpyDtype:
		// dtype.__setstate__((version, byteorder, subdescr, names, fields, elsize, align, flags)).
		st, ok := state.(PyTuple)
		if !ok || len(st) < 2 {
			return u.fail("dtype state is %T", state)
		}
		if bo, ok := st[1].(string); ok {
			o.ByteOrder = bo
		}
	case *PyObject:
		if d, ok := state.(*PyDict); ok {
			if cur, ok := o.State.(*PyDict); ok {
				for i, k := range d.Keys {
					if err := cur.Set(k, d.Values[i]); err != nil {
						return u.fail("%v", err)
					}
				}
				return nil
			}
		}
		o.State = state
	case *PyDict:
		if d, ok := state.(*PyDict); ok {
			for i, k := range d.Keys {
				if err := o.Set(k, d.Values[i]); err != nil {
					return u.fail("%v", err)
				}
			}
			return nil
		}
		return u.fail("BUILD of a dict with %T", state)
	default:
		return u.fail("BUILD on %T", obj)
	}
	return nil
}
