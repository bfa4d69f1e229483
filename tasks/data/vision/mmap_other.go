//go:build !unix

package vision

import (
	"fmt"
	"os"
)

// mapFile reads the file at path (no mmap on this platform).
func mapFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("vision: %w", err)
	}
	return b, nil
}
