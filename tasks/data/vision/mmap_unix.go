//go:build unix

package vision

import (
	"fmt"
	"os"
	"syscall"
)

// mapFile maps the file at path read-only into memory; its pages load on first touch and stay
// in the page cache, not the heap. The mapping lives until the process ends (datasets keep
// their batches for the whole run).
func mapFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("vision: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("vision: %w", err)
	}
	if st.Size() == 0 {
		return nil, fmt.Errorf("vision: %s is empty", path)
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("vision: mapping %s: %w", path, err)
	}
	return b, nil
}
