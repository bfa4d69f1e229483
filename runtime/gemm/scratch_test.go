package gemm

import "testing"

func TestScratchReusesByLength(t *testing.T) {
	s := newScratch[float32](1 << 10) // 256 floats
	a := s.get(100)
	if len(a) != 100 {
		t.Fatalf("get(100) has length %d", len(a))
	}
	s.put(a)
	if b := s.get(50); len(b) != 50 || &b[0] == &a[0] {
		t.Fatalf("get(50) reused the 100-float buffer or has length %d", len(b))
	}
	if b := s.get(100); &b[0] != &a[0] {
		t.Fatal("get(100) did not reuse the buffer put back")
	}
	s.put(make([]float32, 200))
	s.put(make([]float32, 200)) // over the 1 KiB limit: dropped
	if s.bytes != 800 || len(s.free[200]) != 1 {
		t.Fatalf("kept %d bytes in %d buffers, want 800 in 1", s.bytes, len(s.free[200]))
	}
}
