package main

import (
	"bytes"
	"encoding/json"
	"fmt"
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

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/optim"
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
	bigGrid := filepath.Join(dir, "big.yaml")
	os.WriteFile(bigGrid, []byte("task: mnist\noptimizer: {name: adamw_baseline, learning_rate: "+intList(400)+"}\nengine: {seed: "+intList(400)+"}\n"), 0o644)
	bomb := filepath.Join(dir, "bomb.yaml")
	laughs := "task: mnist\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
	for i := 1; i < 10; i++ {
		laughs += fmt.Sprintf("a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	os.WriteFile(bomb, []byte(laughs), 0o644)
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown task", []string{"train", "-task", "mnistt", "-opt", "adamw"}, []string{`"mnistt"`, "mnist", "template", "classification"}},
		{"unknown optimizer", []string{"train", "-task", "mnist", "-opt", "adamx"}, []string{`"adamx"`, "adamw_baseline", "sgd_baseline"}},
		{"malformed yaml", []string{"run", badYAML}, []string{"bad.yaml", "line"}},
		{"unknown task key", []string{"train", "-task", "mnist", "-opt", "adamw", "-out", dir, "task.max_epoch=1"},
			[]string{`"task.max_epoch=1"`, "unknown key of task mnist", "valid keys: batch_size, max_epochs", "did you mean max_epochs?"}},
		{"negative model size", []string{"train", "-task", "template", "-opt", "adamw", "-out", dir, "task.model.hidden_channels=-3"},
			[]string{"task.model.hidden_channels = -3 is out of range; valid values are 1 to 65536"}},
		{"grid too large", []string{"run", bigGrid}, []string{"big.yaml", "asks for 160000 runs", "split it into several experiment files"}},
		{"alias bomb", []string{"run", bomb}, []string{"bomb.yaml", "more than 1000000 values once its aliases"}},
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

// intList writes "[0, 1, ..., n-1]".
func intList(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = strconv.Itoa(i)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// TestSignalDuringParse: SIGTERM while a large grid (90,000 runs) is being resolved stops fob
// within a second or two, with exit code 130, instead of after the whole grid.
func TestSignalDuringParse(t *testing.T) {
	dir := t.TempDir()
	grid := filepath.Join(dir, "grid.yaml")
	os.WriteFile(grid, []byte("task: template\noptimizer: {name: adamw_baseline, learning_rate: "+intList(300)+"}\n"+
		"engine: {seed: "+intList(300)+", train: false, test: false, plot: false, output_dir: "+dir+"}\n"), 0o644)
	cmd := exec.Command(fobBinary(t), "run", grid)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	signalled := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		took := time.Since(signalled)
		code := cmd.ProcessState.ExitCode()
		if took > 3*time.Second || code != 130 {
			t.Errorf("exit code %d %v after %v, want 130 within a second or two:\n%s", code, err, took, out.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running 60 s after SIGTERM:\n%s", out.String())
	}
}

// TestAllOptimizersMNIST runs examples/all_optimizers_mnist.yaml with every registered
// optimizer: each trains mnist for 2 epochs, finishes with a finite loss well above chance
// (10%), and logs its learning rates. An optimizer the example does not list yet runs with its
// defaults (and mnist's task-level values), so adding one needs no change here.
func TestAllOptimizersMNIST(t *testing.T) {
	registered := optim.Names()
	if testing.Short() {
		t.Skipf("trains %d runs of 2 epochs (about 10 s each)", len(registered))
	}
	out := t.TempDir()
	log, err := fob(t, "run", allOptimizersExperiment(t, registered), "engine.output_dir="+out,
		"engine.data_dir="+sharedDataDir(), "engine.silent=true")
	if err != nil {
		t.Fatalf("fob run: %v\n%s", err, log)
	}
	names, _ := filepath.Glob(filepath.Join(out, "mnist", "*"))
	if len(names) != len(registered) {
		t.Fatalf("%d optimizer folders, want one per registered optimizer %v: %v", len(names), registered, names)
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

// allOptimizersExperiment writes examples/all_optimizers_mnist.yaml with one optimizer entry per
// registered optimizer (the example's own entry where it has one) and returns its path.
func allOptimizersExperiment(t *testing.T, registered []string) string {
	t.Helper()
	root, err := config.ParseOrderedMap(mustRead(t, "../../examples/all_optimizers_mnist.yaml"), "all_optimizers_mnist.yaml")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]any{}
	v, _ := root.Get("optimizer")
	for _, e := range v.([]any) {
		name, _ := e.(*config.Ordered).Get("name")
		listed[name.(string)] = e
	}
	var entries []any
	for _, n := range registered {
		e, ok := listed[n]
		if !ok {
			o := config.NewOrdered()
			o.Set("name", n)
			e = o
		}
		entries = append(entries, e)
	}
	root.Set("optimizer", entries)
	data, err := config.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "all_optimizers_mnist.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
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
		"translation            ready: inputs: input_ids int64[batch,src_len], attention_mask int64[batch,src_len], decoder_input_ids int64[batch,tgt_len]; outputs: logits float32[batch,tgt_len,vocab]",
		"wmt                    short for translation",
		"classification_small   ready: inputs: image float32[batch,3,32,32]; outputs: logits float32[batch,100]",
		"detection              defaults only:",
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

// TestModelCommand: fob model writes a task's untrained graph (here a small T5, named by the
// task's short name) that any ONNX tool can load, with its parameter count.
func TestModelCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "t5.onnx")
	small := []string{"task.model.vocab_size=500", "task.model.d_model=32", "task.model.d_kv=8", "task.model.d_ff=64",
		"task.model.num_layers=2", "task.model.num_decoder_layers=1", "task.model.num_heads=4"}
	stdout, err := fobStdout(t, append([]string{"model", "-task", "wmt", "-o", out}, small...)...)
	if err != nil {
		t.Fatalf("fob model: %v\n%s", err, stdout)
	}
	m, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	cfg := models.T5Small()
	cfg.VocabSize, cfg.DModel, cfg.DKV, cfg.DFF, cfg.NumLayers, cfg.NumDecoderLayers, cfg.NumHeads = 500, 32, 8, 64, 2, 1, 4
	want := cfg.NumParams()
	if got := ParameterCount(m); got != int64(want) {
		t.Errorf("the written model has %d parameters, the T5 formula says %d", got, want)
	}
	if !strings.Contains(stdout, fmt.Sprintf("translation model, %d parameters", want)) {
		t.Errorf("fob model printed %q", stdout)
	}
	if onnx.Metadata(m)["fob.task"] != "translation" {
		t.Errorf("metadata %v", onnx.Metadata(m))
	}
	for _, args := range [][]string{{"model", "-task", "detection", "-o", out}, {"model", "-task", "mnist"},
		{"model", "-task", "mnist", "-o", out, "task.model.num_hidden=-3"}} {
		if stdout, err := fobStdout(t, args...); err == nil {
			t.Errorf("fob %v succeeded:\n%s", args, stdout)
		}
	}
}
