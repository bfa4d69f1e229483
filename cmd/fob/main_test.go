package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// fobBinary builds the command once per test binary.
func fobBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fob-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "fob")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func fob(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return fobEnv(t, nil, args...)
}

func fobEnv(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(fobBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	for _, e := range env {
		if dir, ok := strings.CutPrefix(e, "FOB_CWD="); ok {
			cmd.Dir = dir
		}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// fobStdout runs fob and returns its standard output only.
func fobStdout(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(fobBinary(t), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		return out.String() + errOut.String(), err
	}
	return out.String(), nil
}

func sharedDataDir() string { return filepath.Join(os.TempDir(), "fob-test-data") }

// TestKillAndResume kills a training process with SIGKILL after its first epoch checkpoint,
// resumes it, and checks that the results equal those of an uninterrupted run with the same seed.
func TestKillAndResume(t *testing.T) {
	base := []string{"train", "-task", "mnist", "-opt", "adamw", "task.max_epochs=2", "engine.seed=7",
		"engine.data_dir=" + sharedDataDir()}
	whole := t.TempDir()
	if out, err := fob(t, append(base, "engine.output_dir="+whole)...); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}

	// fob eval reproduces the run's results_best_model.json exactly.
	wholeDir := filepath.Join(whole, "mnist", "adamw_baseline", "engine.seed=7,task.max_epochs=2")
	evalOut, err := fobStdout(t, "eval", "-checkpoint", filepath.Join(wholeDir, "checkpoints", "best.onnx"), "-json",
		"-data-dir", sharedDataDir())
	if err != nil {
		t.Fatalf("fob eval: %v\n%s", err, evalOut)
	}
	var got, want []map[string]float64
	wantRaw, _ := os.ReadFile(filepath.Join(wholeDir, "results_best_model.json"))
	if err := json.Unmarshal([]byte(evalOut), &got); err != nil {
		t.Fatalf("fob eval -json output: %v\n%s", err, evalOut)
	}
	json.Unmarshal(wantRaw, &want)
	if len(got) != 1 || len(want) != 1 || got[0]["test_acc"] != want[0]["test_acc"] || got[0]["test_loss"] != want[0]["test_loss"] {
		t.Errorf("fob eval gives %v, results_best_model.json has %v", got, want)
	}

	killed := t.TempDir()
	cmd := exec.Command(fobBinary(t), append(base, "engine.output_dir="+killed)...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(killed, "mnist", "adamw_baseline", "engine.seed=7,task.max_epochs=2")
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(runDir, "checkpoints", "last.state")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no checkpoint appeared:\n%s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Into epoch 2, which takes about a second even with the AVX2 kernel (108 steps, validation,
	// the checkpoint and the test scoring after it).
	time.Sleep(200 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(runDir, "scores.json")); err == nil {
		t.Fatal("the run finished before it was killed; the test proves nothing")
	}
	out, err := fob(t, append(base, "engine.output_dir="+killed)...)
	if err != nil {
		t.Fatalf("resumed run: %v\n%s", err, out)
	}
	if !strings.Contains(out, "resuming") {
		t.Errorf("the second run did not resume:\n%s", out)
	}
	for _, f := range []string{"results_best_model.json", "results_final_model.json"} {
		a, err1 := os.ReadFile(filepath.Join(wholeDir, f))
		b, err2 := os.ReadFile(filepath.Join(runDir, f))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs after kill and resume:\nuninterrupted: %s\nresumed:       %s", f, a, b)
		}
	}
	csvA, _ := os.ReadFile(filepath.Join(wholeDir, "csv_logs", "metrics.csv"))
	csvB, _ := os.ReadFile(filepath.Join(runDir, "csv_logs", "metrics.csv"))
	if !bytes.Equal(csvA, csvB) {
		t.Errorf("metrics.csv differs after kill and resume:\n%s\n---\n%s", csvA, csvB)
	}
}

// TestBadInput checks the errors of common mistakes: they name the thing and list the options.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	badYAML := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badYAML, []byte("task:\n  name: mnist\n optimizer: [\n"), 0o644)
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown task", []string{"train", "-task", "mnistt", "-opt", "adamw"}, []string{`"mnistt"`, "mnist", "template", "classification"}},
		{"unknown optimizer", []string{"train", "-task", "mnist", "-opt", "adamx"}, []string{`"adamx"`, "adamw_baseline", "sgd_baseline"}},
		{"malformed yaml", []string{"run", badYAML}, []string{"bad.yaml", "line"}},
		{"double dash flags", []string{"--help"}, []string{"usage"}},
		{"missing onnxruntime", []string{"doctor"}, []string{"ONNXRUNTIME_LIB", "make onnxruntime"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var env []string
			if c.name == "missing onnxruntime" {
				// Outside the project (no .local install) and with no library configured.
				env = append(env, "ONNXRUNTIME_LIB=", "FOB_CWD="+t.TempDir())
			}
			out, _ := fobEnv(t, env, c.args...)
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "goroutine ") {
				t.Errorf("raw panic trace:\n%s", out)
			}
		})
	}
}

// TestAllOptimizersMNIST runs examples/all_optimizers_mnist.yaml: every optimizer trains mnist
// for 2 epochs, finishes with a finite loss well above chance (10%), and logs its learning rates.
func TestAllOptimizersMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 11 runs of 2 epochs (about 2 minutes)")
	}
	out := t.TempDir()
	log, err := fob(t, "run", "../../examples/all_optimizers_mnist.yaml", "engine.output_dir="+out,
		"engine.data_dir="+sharedDataDir(), "engine.silent=true")
	if err != nil {
		t.Fatalf("fob run: %v\n%s", err, log)
	}
	names, _ := filepath.Glob(filepath.Join(out, "mnist", "*"))
	if len(names) != 11 {
		t.Fatalf("%d optimizer folders, want 11: %v", len(names), names)
	}
	for _, optDir := range names {
		runs, _ := filepath.Glob(filepath.Join(optDir, "*"))
		if len(runs) != 1 {
			t.Fatalf("%s: %d runs", optDir, len(runs))
		}
		var res []map[string]float64
		b, err := os.ReadFile(filepath.Join(runs[0], "results_final_model.json"))
		if err != nil || json.Unmarshal(b, &res) != nil {
			t.Fatalf("%s: no results: %v", runs[0], err)
		}
		acc := res[0]["test_acc"]
		t.Logf("%-16s test_acc %.4f test_loss %.4f", filepath.Base(optDir), acc, res[0]["test_loss"])
		if !(acc > 0.5) || math.IsNaN(res[0]["test_loss"]) || math.IsInf(res[0]["test_loss"], 0) {
			t.Errorf("%s: test_acc %v, test_loss %v", filepath.Base(optDir), acc, res[0]["test_loss"])
		}
		csv, _ := os.ReadFile(filepath.Join(runs[0], "csv_logs", "metrics.csv"))
		lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
		header := strings.Split(lines[0], ",")
		lrCol := -1
		for i, h := range header {
			if strings.HasPrefix(h, "lr") {
				lrCol = i
				break
			}
		}
		if lrCol < 0 {
			t.Errorf("%s: no learning-rate column in %v", filepath.Base(optDir), header)
			continue
		}
		row := strings.Split(lines[1], ",")
		if v, err := strconv.ParseFloat(row[lrCol], 64); err != nil || !(v > 0) {
			t.Errorf("%s: learning rate %q in the first logged row", filepath.Base(optDir), row[lrCol])
		}
	}
}

// TestSetup prepares the data of every task of an experiment once (FOB's dataset_setup).
func TestSetup(t *testing.T) {
	dir := t.TempDir()
	out, err := fob(t, "setup", "../../examples/device_check.yaml", "engine.data_dir="+dir)
	if err != nil {
		t.Fatalf("fob setup: %v\n%s", err, out)
	}
	for _, want := range []string{"mnist: data ready", "tabular: data ready"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, f := range []string{"mnist/train-images-idx3-ubyte.gz", "tabular/cal_housing.tgz", "tabular/idx_test.npy"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("setup did not fetch %s: %v", f, err)
		}
	}
}

// TestListings: `fob tasks` shows each ready task's model signature (what an external .onnx must
// match) and what the others lack; `fob optimizers` lists the optimizers.
func TestListings(t *testing.T) {
	out, err := fobStdout(t, "tasks")
	if err != nil {
		t.Fatalf("fob tasks: %v\n%s", err, out)
	}
	for _, want := range []string{
		"graph_tiny             ready: inputs: x float32[nodes,1433], edge_index int64[2,edges]; outputs: log_probs float32[nodes,7]",
		"mnist                  ready: inputs: X float32[batch,784]; outputs: logits float32[batch,10]",
		"translation            defaults only:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("fob tasks lacks %q:\n%s", want, out)
		}
	}
	out, err = fobStdout(t, "optimizers")
	if err != nil || !strings.Contains(out, "adamw_baseline\n") || !strings.Contains(out, "sophia\n") {
		t.Errorf("fob optimizers: %v\n%s", err, out)
	}
}
