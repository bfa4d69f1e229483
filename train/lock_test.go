package train

import "testing"

// HoldLockForTest exposes the run-folder lock to the external tests.
func TestLockIsExclusive(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDir(dir); err != errLocked {
		t.Errorf("second lock: %v, want errLocked", err)
	}
	unlock()
	again, err := lockDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again()
}
