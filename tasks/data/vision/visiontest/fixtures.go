// Package visiontest writes small files in the official formats of the vision data sets
// (CIFAR-100's python archive, the Imagenet64 batch pickles, their zip archives) for tests of
// the loaders and of the tasks that use them.
package visiontest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// PickleWriter emits the opcodes Python writes for the official dataset files: py2 is
// cPickle protocol 2 as CIFAR's python batches are written (str keys and pixel data as
// BINSTRING); py3 is protocol 3 (unicode keys, BINBYTES data), as Python 3 writes dicts of
// numpy arrays such as the Imagenet64 batches.
type PickleWriter struct {
	bytes.Buffer
	py3 bool
}

// NewPickle starts a pickle (the PROTO opcode).
func NewPickle(py3 bool) *PickleWriter {
	w := &PickleWriter{py3: py3}
	if py3 {
		w.Write([]byte{0x80, 3})
	} else {
		w.Write([]byte{0x80, 2})
	}
	return w
}

func (w *PickleWriter) u32(n int) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	w.Write(b[:])
}

// str writes a Python str: py2 SHORT_BINSTRING/BINSTRING, py3 BINUNICODE.
func (w *PickleWriter) str(s string) {
	if w.py3 {
		w.WriteByte('X')
		w.u32(len(s))
		w.WriteString(s)
		return
	}
	w.raw(s)
}

// raw writes a Python 2 str (BINSTRING), the type of py2 byte data.
func (w *PickleWriter) raw(s string) {
	if len(s) < 256 {
		w.WriteByte('U')
		w.WriteByte(byte(len(s)))
	} else {
		w.WriteByte('T')
		w.u32(len(s))
	}
	w.WriteString(s)
}

// bytesVal writes a bytes value: py3 BINBYTES, py2 str.
func (w *PickleWriter) bytesVal(b []byte) {
	if w.py3 {
		w.WriteByte('B')
		w.u32(len(b))
		w.Write(b)
		return
	}
	w.raw(string(b))
}

func (w *PickleWriter) int(n int) {
	switch {
	case n >= 0 && n < 256:
		w.WriteByte('K')
		w.WriteByte(byte(n))
	case n >= 0 && n < 65536:
		w.WriteByte('M')
		w.WriteByte(byte(n))
		w.WriteByte(byte(n >> 8))
	default:
		w.WriteByte('J')
		w.u32(n)
	}
}

func (w *PickleWriter) global(mod, name string) { w.WriteString("c" + mod + "\n" + name + "\n") }

// NDArrayU8 writes numpy's pickle of a C-order uint8 array.
func (w *PickleWriter) NDArrayU8(shape []int, raw []byte) {
	w.global("numpy.core.multiarray", "_reconstruct")
	w.global("numpy", "ndarray")
	w.int(0)
	w.WriteByte(0x85) // TUPLE1
	w.bytesVal([]byte("b"))
	w.WriteByte(0x87) // TUPLE3
	w.WriteByte('R')
	w.WriteByte('(')
	w.int(1)
	w.WriteByte('(')
	for _, d := range shape {
		w.int(d)
	}
	w.WriteByte('t')
	w.global("numpy", "dtype")
	w.str("u1")
	w.int(0)
	w.int(1)
	w.WriteByte(0x87)
	w.WriteByte('R')
	w.WriteByte('(')
	w.int(3)
	w.str("|")
	w.WriteString("NNN")
	w.WriteByte('J')
	w.u32(-1)
	w.WriteByte('J')
	w.u32(-1)
	w.int(0)
	w.WriteByte('t')
	w.WriteByte('b')
	w.WriteByte(0x89) // NEWFALSE: C order
	w.bytesVal(raw)
	w.WriteByte('t')
	w.WriteByte('b')
}

func (w *PickleWriter) intList(l []int) {
	w.WriteByte(']')
	w.WriteByte('(')
	for _, v := range l {
		w.int(v)
	}
	w.WriteByte('e')
}

// key writes a dict key: a str, or with bytesKeys a bytes value (b'data').
func (w *PickleWriter) key(k string, bytesKeys bool) {
	if bytesKeys {
		w.bytesVal([]byte(k))
	} else {
		w.str(k)
	}
}

// BatchPickle writes a dict {data: uint8 [n, rowLen], labelKey: labels, extra str keys}.
func BatchPickle(py3, bytesKeys bool, pix []byte, rowLen int, labelKey string, labels []int) []byte {
	w := NewPickle(py3)
	w.WriteByte('}')
	w.WriteByte('(')
	w.key("batch_label", bytesKeys)
	w.str("training batch 1 of 1")
	w.key("filenames", bytesKeys)
	w.WriteString("](")
	for i := range labels {
		w.str("img_" + string(rune('a'+i%26)) + ".png")
	}
	w.WriteByte('e')
	w.key("data", bytesKeys)
	w.NDArrayU8([]int{len(pix) / rowLen, rowLen}, pix)
	w.key(labelKey, bytesKeys)
	w.intList(labels)
	if labelKey == "fine_labels" {
		coarse := make([]int, len(labels))
		for i, l := range labels {
			coarse[i] = l / 5
		}
		w.key("coarse_labels", bytesKeys)
		w.intList(coarse)
	}
	w.WriteByte('u')
	w.WriteByte('.')
	return w.Bytes()
}

// MetaPickle is CIFAR-100's meta dict: fine_label_names class00..class99.
func MetaPickle(py3 bool) []byte {
	w := NewPickle(py3)
	w.WriteString("}(")
	w.key("fine_label_names", false)
	w.WriteString("](")
	for i := 0; i < 100; i++ {
		w.str("class" + string(rune('0'+i/10)) + string(rune('0'+i%10)))
	}
	w.WriteByte('e')
	w.key("coarse_label_names", false)
	w.WriteString("](")
	w.str("aquatic_mammals")
	w.WriteString("eu.")
	return w.Bytes()
}

// Pattern fills n bytes deterministically.
func Pattern(n, seed int) []byte {
	b := make([]byte, n)
	x := uint32(seed*7919 + 1)
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

// WriteTarGz writes members (name → content, in the given order) as a .tar.gz.
func WriteTarGz(t testing.TB, path string, names []string, files map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: "cifar-100-python/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// CIFARFixture is a tiny cifar-100-python.tar.gz: 5 training and 3 test images.
type CIFARFixture struct {
	TrainPix, TestPix       []byte // rows of 3072 bytes (R, G, B planes of 32×32)
	TrainLabels, TestLabels []int  // fine labels 0..99
}

// NewCIFARFixture returns 5 training and 3 test images with their labels.
func NewCIFARFixture() CIFARFixture {
	return CIFARFixture{
		TrainPix: Pattern(5*3072, 1), TestPix: Pattern(3*3072, 2),
		TrainLabels: []int{0, 99, 42, 7, 7}, TestLabels: []int{3, 0, 99},
	}
}

// Write writes the archive to path (Python 2 or 3 pickles, str or bytes keys).
func (f CIFARFixture) Write(t testing.TB, path string, py3, bytesKeys bool) {
	t.Helper()
	WriteTarGz(t, path, []string{"cifar-100-python/meta", "cifar-100-python/test", "cifar-100-python/train"}, map[string][]byte{
		"cifar-100-python/train": BatchPickle(py3, bytesKeys, f.TrainPix, 3072, "fine_labels", f.TrainLabels),
		"cifar-100-python/test":  BatchPickle(py3, bytesKeys, f.TestPix, 3072, "fine_labels", f.TestLabels),
		"cifar-100-python/meta":  MetaPickle(py3),
	})
}

// WriteZip writes members into a zip archive.
func WriteZip(t testing.TB, path string, files map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for n, b := range files {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ImagenetBatch returns the pixels and the pickle of a tiny Imagenet64 batch: n images,
// labels 1..1000 as the official files hold them.
func ImagenetBatch(n, seed int, labels []int) ([]byte, []byte) {
	pix := Pattern(n*12288, seed)
	return pix, BatchPickle(true, false, pix, 12288, "labels", labels)
}
