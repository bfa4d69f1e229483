package vision

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/fob-go/fob/tasks/data"
)

// CIFAR100File is the official CIFAR-100 python archive (Krizhevsky): pickled dicts train
// (50,000 images), test (10,000) and meta inside cifar-100-python/.
var CIFAR100File = data.File{
	Name:   "cifar-100-python.tar.gz",
	URLs:   []string{"https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"},
	SHA256: "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
	MD5:    "eb9058c3a382ffc7106e4002c42a8d85",
	Size:   169001437,
}

// CIFAR100 is the archive's content: 3×32×32 images with their fine labels (0..99).
type CIFAR100 struct {
	Train, Test *Memory
	// Classes are the fine label names from meta (empty when meta is absent).
	Classes []string
}

// maxCIFARMember bounds what is read from one archive member (the train pickle is 150 MiB), so
// a damaged or foreign archive cannot exhaust memory.
const maxCIFARMember = 512 << 20

// ReadCIFAR100 reads the official cifar-100-python.tar.gz at path.
func ReadCIFAR100(p string) (*CIFAR100, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("vision: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("vision: %s is not a gzip file (%v); delete it and fetch cifar-100-python.tar.gz again", p, err)
	}
	tr := tar.NewReader(zr)
	out := &CIFAR100{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("vision: %s: reading the tar archive: %v (a truncated or damaged download: delete it and fetch it again)", p, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Base(h.Name)
		if name != "train" && name != "test" && name != "meta" {
			continue
		}
		if h.Size > maxCIFARMember {
			return nil, fmt.Errorf("vision: %s: member %s is %d bytes, more than a CIFAR-100 pickle can be", p, h.Name, h.Size)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("vision: %s: member %s: %v (a truncated or damaged download: delete it and fetch it again)", p, h.Name, err)
		}
		v, err := data.Unpickle(b)
		if err != nil {
			return nil, fmt.Errorf("vision: %s: member %s: %w", p, h.Name, err)
		}
		switch name {
		case "meta":
			out.Classes, err = cifarClasses(v)
		case "train":
			out.Train, err = cifarBatch(v)
		case "test":
			out.Test, err = cifarBatch(v)
		}
		if err != nil {
			return nil, fmt.Errorf("vision: %s: member %s: %w", p, h.Name, err)
		}
	}
	if out.Train == nil || out.Test == nil {
		return nil, fmt.Errorf("vision: %s lacks cifar-100-python/train or cifar-100-python/test; it is not the CIFAR-100 python archive (delete it and fetch %s again)", p, CIFAR100File.URLs[0])
	}
	return out, nil
}

// dictGet looks key up as a str and as a bytes key (Python 2 pickles read with
// encoding="bytes" have bytes keys; the official files have Python 2 str keys).
func dictGet(d *data.PyDict, key string) (any, bool) {
	if v, ok := d.Get(key); ok {
		return v, true
	}
	return d.Get(data.BytesKey(key))
}

// cifarBatch reads a batch dict: data uint8 [N, 3072] (R, G, B planes of 32×32) and
// fine_labels, N integers in 0..99.
func cifarBatch(v any) (*Memory, error) {
	d, ok := v.(*data.PyDict)
	if !ok {
		return nil, fmt.Errorf("the pickle holds %T, want a dict", v)
	}
	pix, n, err := uint8Rows(d, "data", 3*32*32)
	if err != nil {
		return nil, err
	}
	labels, err := intList(d, "fine_labels", n, 0, 99)
	if err != nil {
		return nil, err
	}
	return &Memory{C: 3, H: 32, W: 32, Pix: pix, Labels: labels}, nil
}

// uint8Rows reads key as a uint8 array of rows of rowLen bytes and returns its bytes (shared
// with the array) and the row count.
func uint8Rows(d *data.PyDict, key string, rowLen int) ([]uint8, int, error) {
	v, ok := dictGet(d, key)
	if !ok {
		return nil, 0, fmt.Errorf("no key %q", key)
	}
	a, ok := v.(*data.NDArray)
	if !ok {
		return nil, 0, fmt.Errorf("key %q holds %T, want a numpy array", key, v)
	}
	if a.Dtype == nil || a.Dtype.Name != "u1" {
		return nil, 0, fmt.Errorf("key %q: dtype %v, want uint8 (u1)", key, a.Dtype)
	}
	if len(a.Shape) != 2 || a.Shape[1] != rowLen || a.Fortran {
		return nil, 0, fmt.Errorf("key %q: shape %v (fortran %v), want [N, %d] in C order", key, a.Shape, a.Fortran, rowLen)
	}
	if len(a.Raw) != a.Shape[0]*rowLen {
		return nil, 0, fmt.Errorf("key %q: %d bytes for shape %v", key, len(a.Raw), a.Shape)
	}
	return a.Raw, a.Shape[0], nil
}

// intList reads key as n integers in lo..hi (a list or an integer numpy array).
func intList(d *data.PyDict, key string, n int, lo, hi int64) ([]int64, error) {
	v, ok := dictGet(d, key)
	if !ok {
		return nil, fmt.Errorf("no key %q", key)
	}
	var out []int64
	switch l := v.(type) {
	case *data.PyList:
		out = make([]int64, len(l.Items))
		for i, it := range l.Items {
			x, ok := it.(int64)
			if !ok {
				return nil, fmt.Errorf("key %q item %d is %T, want an int", key, i, it)
			}
			out[i] = x
		}
	case *data.NDArray:
		var err error
		if out, err = l.Int64s(); err != nil {
			return nil, fmt.Errorf("key %q: %w", key, err)
		}
	default:
		return nil, fmt.Errorf("key %q holds %T, want a list of ints", key, v)
	}
	if len(out) != n {
		return nil, fmt.Errorf("key %q has %d labels for %d images", key, len(out), n)
	}
	for i, x := range out {
		if x < lo || x > hi {
			return nil, fmt.Errorf("key %q item %d is %d, outside %d..%d", key, i, x, lo, hi)
		}
	}
	return out, nil
}

// cifarClasses reads meta's fine_label_names.
func cifarClasses(v any) ([]string, error) {
	d, ok := v.(*data.PyDict)
	if !ok {
		return nil, fmt.Errorf("meta holds %T, want a dict", v)
	}
	l, ok := dictGet(d, "fine_label_names")
	if !ok {
		return nil, fmt.Errorf("meta has no key \"fine_label_names\"")
	}
	list, ok := l.(*data.PyList)
	if !ok {
		return nil, fmt.Errorf("fine_label_names is %T, want a list", l)
	}
	names := make([]string, len(list.Items))
	for i, it := range list.Items {
		switch s := it.(type) {
		case string:
			names[i] = s
		case []byte:
			names[i] = string(s)
		default:
			return nil, fmt.Errorf("fine_label_names item %d is %T", i, it)
		}
	}
	return names, nil
}
