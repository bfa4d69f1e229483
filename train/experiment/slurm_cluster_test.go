package experiment_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fob-go/fob/train/experiment"
)

// TestSlurmCluster submits an array of three runs and its plot job to a real SLURM cluster
// (scripts/slurm-cluster.sh start) and waits for them. The executable is a stand-in that
// records its arguments, so the test checks scheduling, not training. It runs only with
// FOB_SLURM_TEST=1.
func TestSlurmCluster(t *testing.T) {
	if os.Getenv("FOB_SLURM_TEST") != "1" {
		t.Skip("set FOB_SLURM_TEST=1 with a running cluster (scripts/slurm-cluster.sh start)")
	}
	if out, err := exec.Command("sinfo", "-h", "-o", "%T").CombinedOutput(); err != nil || !strings.Contains(string(out), "idle") {
		t.Fatalf("no idle SLURM node: %v %s", err, out)
	}
	out := t.TempDir()
	record := filepath.Join(out, "record")
	os.MkdirAll(record, 0o755)
	exe := filepath.Join(out, "fob")
	stub := "#!/bin/sh\necho \"$@\" > " + record + "/$1-${SLURM_ARRAY_TASK_ID:-plot}-$(date +%s%N)\n"
	if err := os.WriteFile(exe, []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	exp, err := parseText(t, `task: mnist
optimizer: {name: adamw_baseline, learning_rate: [0.1, 0.01, 0.001]}
engine:
  output_dir: `+out+`
  run_scheduler: slurm_array
  workers: 1
  sbatch_args: {mem-per-cpu: 100mb}
`)
	if err != nil {
		t.Fatal(err)
	}
	s := &experiment.Slurm{Executable: exe, Log: &strings.Builder{}}
	res, err := s.Submit(exp)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		q, _ := exec.Command("squeue", "-h", "-j", fmt.Sprintf("%d,%d", res.Jobs[0], res.PlotJob), "-o", "%i").Output()
		if strings.TrimSpace(string(q)) == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs still queued after 90 s:\n%s", q)
		}
		time.Sleep(500 * time.Millisecond)
	}
	entries, _ := os.ReadDir(record)
	var calls []string
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(record, e.Name()))
		calls = append(calls, strings.TrimSpace(string(b)))
	}
	sort.Strings(calls)
	first := filepath.Join(exp.Runs[0].Dir, "experiment.yaml")
	want := []string{
		"plot " + first,
		"run " + first + " engine.run_scheduler=single:1 engine.plot=false",
		"run " + first + " engine.run_scheduler=single:2 engine.plot=false",
		"run " + first + " engine.run_scheduler=single:3 engine.plot=false",
	}
	if strings.Join(calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("the jobs ran\n%s\nwant\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}
	logs, _ := filepath.Glob(filepath.Join(out, "slurm_logs", "FOB-mnist-adamwbaseline-*.out"))
	if len(logs) != 3 {
		t.Errorf("%d array job logs in %s, want 3", len(logs), filepath.Join(out, "slurm_logs"))
	}
}
