package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// The idx format (MNIST): a big-endian magic 0x0000TTDD (TT: element type, 0x08 = unsigned
// byte; DD: number of dimensions), DD big-endian uint32 sizes, then the elements in row-major
// order.
const (
	idxImagesMagic = 0x00000803
	idxLabelsMagic = 0x00000801
	maxIDXElements = 1 << 31 // refuse absurd headers of corrupt files before allocating
)

// ReadIDXImages reads an idx3-ubyte image file (gzip-compressed or plain): n images of
// rows×cols bytes, row-major.
func ReadIDXImages(path string) (n, rows, cols int, pixels []uint8, err error) {
	dims, pixels, err := readIDX(path, idxImagesMagic, "image")
	if err != nil {
		return 0, 0, 0, nil, err
	}
	return dims[0], dims[1], dims[2], pixels, nil
}

// ReadIDXLabels reads an idx1-ubyte label file (gzip-compressed or plain).
func ReadIDXLabels(path string) ([]uint8, error) {
	_, labels, err := readIDX(path, idxLabelsMagic, "label")
	return labels, err
}

func readIDX(path string, magic uint32, kind string) ([]int, []uint8, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("data: %s: bad gzip header: %w", path, err)
		}
		defer zr.Close()
		zr.Multistream(false)
		r = zr
	}
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("data: %s: truncated idx header: %w", path, err)
	}
	if got := binary.BigEndian.Uint32(hdr[:]); got != magic {
		return nil, nil, fmt.Errorf("data: %s: not an idx %s file (magic 0x%08x, want 0x%08x)", path, kind, got, magic)
	}
	nd := int(magic & 0xff)
	dims := make([]int, nd)
	total := 1
	for i := range dims {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, nil, fmt.Errorf("data: %s: truncated idx header: %w", path, err)
		}
		dims[i] = int(binary.BigEndian.Uint32(hdr[:]))
		total *= dims[i]
		if total > maxIDXElements {
			return nil, nil, fmt.Errorf("data: %s: idx header claims more than %d elements (%v...): corrupt file", path, maxIDXElements, dims[:i+1])
		}
	}
	data := make([]uint8, total)
	got, err := io.ReadFull(r, data)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: truncated: the header announces %v = %d bytes of data, only %d follow (%v)", path, dims, total, got, err)
	}
	// Reading to the end makes gzip check its CRC and length trailer.
	var extra [1]byte
	if m, err := io.ReadFull(r, extra[:]); m > 0 {
		return nil, nil, fmt.Errorf("data: %s: data continues past the %v elements the header announces", path, dims)
	} else if !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("data: %s: corrupt or truncated compressed stream: %w", path, err)
	}
	return dims, data, nil
}
