package runtime

import (
	"slices"
	"testing"
	"time"
)

func TestZZInterleave(t *testing.T) {
	InstallFixes()
	cfgs := []string{"ops_sequential", "ops_parallel,parallelism=-1", "", "ops_sequential,parallelism=0"}
	for _, sizes := range [][]int{{784, 128, 10}, {784, 512, 512, 512, 10}} {
		var trs []*mlpTrainer
		for _, c := range cfgs {
			be, err := newGoBackend(c)
			if err != nil { t.Fatal(err) }
			tr := newMLPTrainer(t, be, sizes, 512)
			tr.step()
			trs = append(trs, tr)
		}
		times := make([][]float64, len(cfgs))
		for r := 0; r < 15; r++ {
			for i, tr := range trs {
				if cfgs[i] == "" && len(sizes) > 3 { continue }
				s := time.Now()
				if _, err := tr.step(); err != nil { t.Fatal(err) }
				times[i] = append(times[i], float64(time.Since(s).Microseconds())/1000)
			}
		}
		for i, c := range cfgs {
			if len(times[i]) == 0 { continue }
			slices.Sort(times[i])
			t.Logf("%v %-32q median %.1f ms  min %.1f  max %.1f", sizes, c, times[i][len(times[i])/2], times[i][0], times[i][len(times[i])-1])
		}
	}
}
