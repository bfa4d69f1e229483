package gemm

import (
	"sync"
	"unsafe"
)

// Scratch buffers (kernel blocks, patch blocks, index tables) are kept for reuse across calls,
// by length: a training step runs dozens of convolutions whose sizes repeat every step. A
// sync.Pool would hand a 256 KiB patch buffer to a 32 MiB request (and drop it), and it is
// emptied at every garbage collection; each fresh large buffer then costs page faults, which
// are expensive on virtual machines (a tenth of a ResNet-18 step here).
var (
	f32Scratch = newScratch[float32](512 << 20)
	intScratch = newScratch[int](128 << 20)
)

// scratch is a free list of slices by length, holding at most limit bytes.
type scratch[T any] struct {
	mu           sync.Mutex
	free         map[int][][]T
	bytes, limit int
}

func newScratch[T any](limit int) *scratch[T] {
	return &scratch[T]{free: map[int][][]T{}, limit: limit}
}

// get returns a slice of length n (contents undefined).
func (s *scratch[T]) get(n int) []T {
	s.mu.Lock()
	if l := s.free[n]; len(l) > 0 {
		b := l[len(l)-1]
		s.free[n] = l[:len(l)-1]
		s.bytes -= n * int(unsafe.Sizeof(b[0]))
		s.mu.Unlock()
		return b
	}
	s.mu.Unlock()
	return make([]T, n)
}

// put keeps b for a later get of its length, unless the list is full.
func (s *scratch[T]) put(b []T) {
	if len(b) == 0 {
		return
	}
	size := len(b) * int(unsafe.Sizeof(b[0]))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bytes+size > s.limit {
		return
	}
	s.free[len(b)] = append(s.free[len(b)], b)
	s.bytes += size
}
