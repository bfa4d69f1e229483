package runtime

import (
	goruntime "runtime"
	"testing"
	"time"
)

func TestZZGuardWouldCatch(t *testing.T) {
	InstallFixes()
	b, _ := newGoBackend("")
	if finishesWithin(t, 30*time.Second, 3, branchesStep(t, b, 2*goruntime.NumCPU()+2, 128)) {
		t.Log("finished: guard would NOT catch")
	} else {
		t.Log("hung: guard catches it")
	}
}
