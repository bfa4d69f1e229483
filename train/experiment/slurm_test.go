package experiment_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fob-go/fob/train/experiment"
)

var day = time.Date(2025, 2, 15, 12, 0, 0, 0, time.UTC)

func argString(args []experiment.SbatchArg) string {
	var parts []string
	for _, a := range args {
		parts = append(parts, a.Key+"="+a.Value)
	}
	return strings.Join(parts, " ")
}

func TestProcessSbatchArgs(t *testing.T) {
	base := []experiment.SbatchArg{{"nodes", "1"}, {"mem-per-cpu", "2gb"}, {"time", "00:15:00"}}
	for _, tc := range []struct {
		name    string
		args    []experiment.SbatchArg
		factor  float64
		devices int
		want    string
	}{
		{"defaults", base, 1, 1, "nodes=1 mem-per-cpu=2gb time=00:15:00 gres=gpu:1 ntasks-per-node=1 cpus-per-task=16"},
		{"time factor", base, 1.8, 4, "nodes=1 mem-per-cpu=2gb time=00:27:00 gres=gpu:4 ntasks-per-node=4 cpus-per-task=16"},
		{"seconds and long", []experiment.SbatchArg{{"time", "72000"}}, 2, 1, "time=40:00:00 gres=gpu:1 ntasks-per-node=1 cpus-per-task=16"},
		{"truncates", []experiment.SbatchArg{{"time", "00:00:10"}}, 0.55, 1, "time=00:00:05 gres=gpu:1 ntasks-per-node=1 cpus-per-task=16"},
		{"user gpus ntasks cpus", []experiment.SbatchArg{{"time", "01:00:00"}, {"cpus-per-gpu", "8"}, {"gpus", "2"}, {"ntasks", "2"}}, 1, 2,
			"time=01:00:00 cpus-per-gpu=8 gpus=2 ntasks=2"},
		{"user gres", []experiment.SbatchArg{{"gres", "gpu:a100:1"}}, 1, 1, "gres=gpu:a100:1 ntasks-per-node=1 cpus-per-task=16"},
	} {
		got, err := experiment.ProcessSbatchArgs(tc.args, experiment.EngineConfig{SbatchTimeFactor: tc.factor, Devices: tc.devices, Workers: 16})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if argString(got) != tc.want {
			t.Errorf("%s: %s\nwant %s", tc.name, argString(got), tc.want)
		}
	}
	if _, err := experiment.ProcessSbatchArgs([]experiment.SbatchArg{{"time", "1-00:00:00"}}, experiment.EngineConfig{SbatchTimeFactor: 1}); err == nil ||
		!strings.Contains(err.Error(), "engine.sbatch_args.time: want HH:MM:SS or seconds, got '1-00:00:00'") {
		t.Errorf("bad time: %v", err)
	}
	plot := experiment.PlotSbatchArgs([]experiment.SbatchArg{{"nodes", "2"}, {"time", "05:00:00"}, {"partition", "gpu"}, {"array", "1-9"},
		{"gres", "gpu:4"}, {"ntasks-per-node", "4"}, {"cpus-per-task", "16"}})
	if got := argString(plot); got != "nodes=1 time=00:05:00 partition=gpu ntasks-per-node=1 cpus-per-task=2" {
		t.Errorf("plot args %s", got)
	}
}

func TestJobName(t *testing.T) {
	for in, want := range map[string]string{
		"FOB-mnist-adamw_baseline": "FOB-mnist-adamwbaseline-2025-02-15",
		"FOB-plot":                 "FOB-plot-2025-02-15",
		"my job (1)":               "my-job-1-2025-02-15",
	} {
		if got := experiment.JobName(in, day); got != want {
			t.Errorf("JobName(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestSbatchScript(t *testing.T) {
	got := experiment.SbatchScript("FOB-mnist-adamwbaseline-2025-02-15", "/out/slurm_logs",
		[]experiment.SbatchArg{{"nodes", "1"}, {"time", "00:05:00"}, {"p", "gpu"}, {"array", "1-3"}},
		"srun /bin/fob run /out/mnist/adamw_baseline/default/experiment.yaml engine.run_scheduler=single:$SLURM_ARRAY_TASK_ID engine.plot=false")
	want := `#!/bin/bash

#SBATCH -e /out/slurm_logs/FOB-mnist-adamwbaseline-2025-02-15.%J.err
#SBATCH -o /out/slurm_logs/FOB-mnist-adamwbaseline-2025-02-15.%J.out
#SBATCH -J FOB-mnist-adamwbaseline-2025-02-15

#SBATCH --nodes=1
#SBATCH --time=00:05:00
#SBATCH -p gpu
#SBATCH --array=1-3




###
srun /bin/fob run /out/mnist/adamw_baseline/default/experiment.yaml engine.run_scheduler=single:$SLURM_ARRAY_TASK_ID engine.plot=false`
	if got != want {
		t.Errorf("script:\n%s\nwant:\n%s", got, want)
	}
}

func TestWrapTemplate(t *testing.T) {
	dir := t.TempDir()
	with := filepath.Join(dir, "with.sh")
	without := filepath.Join(dir, "without.sh")
	os.WriteFile(with, []byte("module load cuda\n__FOB_COMMAND__ --extra\n"), 0o644)
	os.WriteFile(without, []byte("module load cuda"), 0o644)
	for _, tc := range []struct{ template, want string }{
		{"", "CMD"},
		{with, "module load cuda\nCMD --extra\n"},
		{without, "module load cuda\nCMD\n"},
	} {
		got, err := experiment.WrapTemplate(tc.template, "CMD")
		if err != nil || got != tc.want {
			t.Errorf("WrapTemplate(%q) = %q, %v; want %q", tc.template, got, err, tc.want)
		}
	}
	if _, err := experiment.WrapTemplate(filepath.Join(dir, "missing.sh"), "CMD"); err == nil || !strings.Contains(err.Error(), "engine.sbatch_script_template") {
		t.Errorf("missing template: %v", err)
	}
}

func TestParseSbatchOutput(t *testing.T) {
	for _, tc := range []struct {
		out  string
		id   int
		fail bool
	}{
		{"Submitted batch job 123\n", 123, false},
		{"Submitted batch job 77 on cluster c1", 77, false},
		{"sbatch: error: Batch job submission failed: Invalid partition name specified", 0, true},
		{"", 0, true},
	} {
		id, err := experiment.ParseSbatchOutput(tc.out)
		if id != tc.id || (err != nil) != tc.fail {
			t.Errorf("ParseSbatchOutput(%q) = %d, %v", tc.out, id, err)
		}
	}
}

// fakeSbatch is an sbatch that records its arguments and a copy of each script, and answers
// with increasing job ids from 100.
func fakeSbatch(t *testing.T) (sbatch, record string) {
	t.Helper()
	dir := t.TempDir()
	record = filepath.Join(dir, "record")
	os.MkdirAll(record, 0o755)
	sbatch = filepath.Join(dir, "sbatch")
	script := `#!/bin/sh
n=$(ls "` + record + `" | grep -c '\.args$')
id=$((100 + n))
echo "$@" > "` + record + `/$id.args"
for last; do :; done
cp "$last" "` + record + `/$id.sh"
echo "Submitted batch job $id"
`
	if err := os.WriteFile(sbatch, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return sbatch, record
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSubmitArray(t *testing.T) {
	out := t.TempDir()
	tmpl := filepath.Join(out, "template.sh")
	os.WriteFile(tmpl, []byte("#!/bin/bash\nsource env.sh\n__FOB_COMMAND__\n"), 0o644)
	exp, err := parseText(t, `task: mnist
optimizer: {name: adamw_baseline, learning_rate: [0.1, 0.01]}
engine:
  seed: [1, 2]
  output_dir: `+out+`
  run_scheduler: slurm_array
  sbatch_time_factor: 2
  save_sbatch_scripts: `+filepath.Join(out, "scripts")+`
  sbatch_script_template: `+tmpl+`
  sbatch_args: {partition: single}
`)
	if err != nil {
		t.Fatal(err)
	}
	sbatch, record := fakeSbatch(t)
	s := &experiment.Slurm{Executable: "/opt/fob/fob", Sbatch: sbatch, Today: func() time.Time { return day }, Log: &strings.Builder{}}
	res, err := s.Submit(exp)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != 1 || res.Jobs[0] != 100 || res.PlotJob != 101 {
		t.Fatalf("submitted %+v", res)
	}
	for _, r := range exp.Runs {
		if _, err := os.Stat(filepath.Join(r.Dir, "experiment.yaml")); err != nil {
			t.Errorf("run %d: %v", r.Index, err)
		}
	}
	job := "FOB-mnist-adamwbaseline-2025-02-15"
	kept := filepath.Join(out, "scripts", job+".sh")
	if len(res.Scripts) != 1 || res.Scripts[0] != kept {
		t.Errorf("kept scripts %v", res.Scripts)
	}
	logs := filepath.Join(out, "slurm_logs")
	want := `#!/bin/bash

#SBATCH -e ` + logs + `/` + job + `.%J.err
#SBATCH -o ` + logs + `/` + job + `.%J.out
#SBATCH -J ` + job + `

#SBATCH --nodes=1
#SBATCH --mem-per-cpu=2gb
#SBATCH --time=00:10:00
#SBATCH --partition=single
#SBATCH --array=1-4
#SBATCH --gres=gpu:1
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=16




###
#!/bin/bash
source env.sh
srun /opt/fob/fob run ` + filepath.Join(exp.Runs[0].Dir, "experiment.yaml") + ` engine.run_scheduler=single:$SLURM_ARRAY_TASK_ID engine.plot=false
`
	if got := readFile(t, kept); got != want {
		t.Errorf("array script:\n%s\nwant:\n%s", got, want)
	}
	if got := strings.TrimSpace(readFile(t, filepath.Join(record, "100.args"))); got != kept {
		t.Errorf("array submitted as %q", got)
	}
	plotArgs := strings.Fields(readFile(t, filepath.Join(record, "101.args")))
	if len(plotArgs) != 2 || plotArgs[0] != "--dependency=afterany:100" {
		t.Errorf("plot job submitted as %v", plotArgs)
	}
	plot := readFile(t, filepath.Join(record, "101.sh"))
	for _, w := range []string{"#SBATCH -J FOB-plot-2025-02-15", "#SBATCH --nodes=1\n#SBATCH --mem-per-cpu=2gb\n#SBATCH --time=00:05:00\n#SBATCH --partition=single\n#SBATCH --ntasks-per-node=1\n#SBATCH --cpus-per-task=2\n",
		"srun /opt/fob/fob plot " + filepath.Join(exp.Runs[0].Dir, "experiment.yaml") + "\n"} {
		if !strings.Contains(plot, w) {
			t.Errorf("plot script lacks %q:\n%s", w, plot)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "scripts", "FOB-plot-2025-02-15.sh")); err == nil {
		t.Error("the plot script must go to a temporary folder, as in FOB")
	}
}

func TestSubmitJobs(t *testing.T) {
	out := t.TempDir()
	exp, err := parseText(t, "task: [mnist, classification]\noptimizer: adamw_baseline\nengine:\n  output_dir: "+out+"\n  run_scheduler: slurm_jobs\n")
	if err != nil {
		t.Fatal(err)
	}
	sbatch, record := fakeSbatch(t)
	s := &experiment.Slurm{Executable: "/opt/fob/fob", Sbatch: sbatch, Today: func() time.Time { return day }, Log: &strings.Builder{}}
	res, err := s.Submit(exp)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.Jobs) != "[100 101]" || res.PlotJob != 102 {
		t.Errorf("submitted %+v", res)
	}
	second := readFile(t, filepath.Join(record, "101.sh"))
	for _, w := range []string{
		"#SBATCH -J FOB-classification-adamwbaseline-2025-02-15",
		"#SBATCH -e " + filepath.Join(exp.Runs[1].Dir, "slurm_logs") + "/",
		"#SBATCH --time=05:00:00\n#SBATCH --gres=gpu:4\n#SBATCH --ntasks-per-node=4\n#SBATCH --cpus-per-task=16\n",
		"engine.run_scheduler=single:2 engine.plot=false",
	} {
		if !strings.Contains(second, w) {
			t.Errorf("job 2 script lacks %q:\n%s", w, second)
		}
	}
	if got := readFile(t, filepath.Join(record, "102.args")); !strings.HasPrefix(got, "--dependency=afterany:100:101 ") {
		t.Errorf("plot job submitted as %q", got)
	}
}

func TestSubmitErrors(t *testing.T) {
	out := t.TempDir()
	exp, err := parseText(t, "task: [mnist, classification]\noptimizer: adamw_baseline\nengine: {output_dir: "+out+", run_scheduler: slurm_array}\n")
	if err != nil {
		t.Fatal(err)
	}
	s := &experiment.Slurm{Executable: "/opt/fob/fob", Sbatch: filepath.Join(out, "no-sbatch")}
	if _, err := s.Submit(exp); err == nil || !strings.Contains(err.Error(), "engine.devices differs between run 1 (1) and run 2 (4)") {
		t.Errorf("mixed devices: %v", err)
	}
	one, err := parseText(t, "task: mnist\nengine: {output_dir: "+out+", run_scheduler: slurm_array}\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(one); err == nil || !strings.Contains(err.Error(), "not found") || !strings.Contains(err.Error(), "engine.run_scheduler=sequential") {
		t.Errorf("missing sbatch: %v", err)
	}
	seq, _ := parseText(t, "task: mnist\n")
	if _, err := s.Submit(seq); err == nil || !strings.Contains(err.Error(), "not sequential") {
		t.Errorf("sequential: %v", err)
	}
}
