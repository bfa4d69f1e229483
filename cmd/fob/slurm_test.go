package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSlurmExperiments trains real runs through a real SLURM cluster (scripts/slurm-cluster.sh
// start; .ci/run starts one): an array experiment and a jobs experiment of the template task, then
// checks that every run's results are on disk. It runs only with FOB_SLURM_TEST=1.
func TestSlurmExperiments(t *testing.T) {
	if os.Getenv("FOB_SLURM_TEST") != "1" {
		t.Skip("set FOB_SLURM_TEST=1 with a running cluster (scripts/slurm-cluster.sh start)")
	}
	lib, _ := filepath.Abs("../../.local/onnxruntime/lib/libonnxruntime.so.1")
	for _, sched := range []string{"slurm_array", "slurm_jobs"} {
		t.Run(sched, func(t *testing.T) {
			out := t.TempDir()
			exp := filepath.Join(out, "experiment.yaml")
			os.WriteFile(exp, []byte(`task:
  name: template
  max_epochs: 3
optimizer:
  name: adamw_baseline
  learning_rate: [1.e-2, 1.e-3]
engine:
  output_dir: `+out+`
  run_scheduler: `+sched+`
  workers: 1
  silent: true
  sbatch_args: {mem-per-cpu: 500mb, time: "00:10:00"}
`), 0o644)
			cmd := exec.Command(fobBinary(t), "run", exp)
			cmd.Env = append(os.Environ(), "ONNXRUNTIME_LIB="+lib)
			b, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("fob run: %v\n%s", err, b)
			}
			if !strings.Contains(string(b), "submitted") {
				t.Fatalf("nothing submitted:\n%s", b)
			}
			// 1.e-3 is the template task's default learning rate, so that run's name lacks it.
			runs := []string{"optimizer.learning_rate=0.01,task.max_epochs=3", "task.max_epochs=3"}
			deadline := time.Now().Add(4 * time.Minute)
			for _, r := range runs {
				res := filepath.Join(out, "template", "adamw_baseline", r, "results_final_model.json")
				for {
					if _, err := os.Stat(res); err == nil {
						break
					}
					if time.Now().After(deadline) {
						logs, _ := exec.Command("sh", "-c", "cat "+out+"/slurm_logs/* "+out+"/template/adamw_baseline/*/slurm_logs/* 2>/dev/null | tail -40").CombinedOutput()
						q, _ := exec.Command("squeue").CombinedOutput()
						t.Fatalf("%s never appeared\nsqueue:\n%s\nlogs:\n%s", res, q, logs)
					}
					time.Sleep(time.Second)
				}
				if _, err := os.Stat(filepath.Join(out, "template", "adamw_baseline", r, "scores.json")); err != nil {
					t.Errorf("%s: %v", r, err)
				}
			}
		})
	}
}
