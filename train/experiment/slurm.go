package experiment

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/fob-go/fob/train/config"
)

// CommandPlaceholder marks where an sbatch_script_template wants the fob command.
const CommandPlaceholder = "__FOB_COMMAND__"

// defaultSbatchTime is slurmpy's time limit when sbatch_args has no time.
const defaultSbatchTime = "84:00:00"

// Slurm submits an experiment's runs to SLURM, as FOB's slurm_array and slurm_jobs schedulers do
// (docs/fob-behaviour.md §2.2, §2.3): it writes experiment.yaml into the run folders, generates one sbatch script
// per job whose command runs fob on one run (single:N), submits it, and submits a plot job that
// waits for the runs when engine.plot is true.
type Slurm struct {
	// Executable is the fob binary the jobs run; "" means this process's executable.
	Executable string
	// Sbatch is the sbatch program; "" means "sbatch" on PATH.
	Sbatch string
	// Today dates job names; nil means time.Now.
	Today func() time.Time
	// Log receives sbatch's replies; nil means os.Stderr.
	Log io.Writer
}

// Submitted is what a submission started.
type Submitted struct {
	// Jobs are the job ids of the runs: one array job, or one job per run.
	Jobs []int
	// PlotJob is the id of the plot job (0 when none was submitted).
	PlotJob int
	// Scripts are the sbatch scripts that were kept (save_sbatch_scripts).
	Scripts []string
}

// Submit submits exp according to its scheduler, which must be slurm_array or slurm_jobs.
func (s *Slurm) Submit(exp *Experiment) (*Submitted, error) {
	switch exp.Scheduler.Kind {
	case "slurm_array":
		return s.submitArray(exp)
	case "slurm_jobs":
		return s.submitJobs(exp)
	}
	return nil, fmt.Errorf("SLURM submission needs engine.run_scheduler slurm_array or slurm_jobs, not %s", exp.Scheduler)
}

func (s *Slurm) executable() (string, error) {
	if s.Executable != "" {
		return filepath.Abs(s.Executable)
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find the fob executable for the SLURM jobs: %w", err)
	}
	return exe, nil
}

func (s *Slurm) today() time.Time {
	if s.Today != nil {
		return s.Today()
	}
	return time.Now()
}

// engines reads the engine view of every run.
func engines(exp *Experiment) ([]EngineConfig, error) {
	out := make([]EngineConfig, len(exp.Runs))
	for i, r := range exp.Runs {
		e, err := Engine(r.Config)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", r.Index, err)
		}
		out[i] = e
	}
	return out, nil
}

// requireEqual checks that all runs agree on the engine keys a shared job needs.
func requireEqual(exp *Experiment, es []EngineConfig, keys []string, reason string) error {
	for _, k := range keys {
		first := config.Sub(exp.Runs[0].Config, "engine")[k]
		for i := 1; i < len(es); i++ {
			v := config.Sub(exp.Runs[i].Config, "engine")[k]
			if !config.Equal(first, v) {
				return fmt.Errorf("engine.%s differs between run 1 (%s) and run %d (%s); with %s all runs must have the same engine.%s",
					k, config.PyStr(first), i+1, config.PyStr(v), reason, strings.Join(keys, ", engine."))
			}
		}
	}
	return nil
}

func (s *Slurm) submitArray(exp *Experiment) (*Submitted, error) {
	es, err := engines(exp)
	if err != nil {
		return nil, err
	}
	if err := requireEqual(exp, es, []string{"devices", "workers", "sbatch_args", "slurm_log_dir", "sbatch_script_template", "run_scheduler"},
		"engine.run_scheduler=slurm_array"); err != nil {
		return nil, err
	}
	e := es[0]
	logDir := e.SlurmLogDir
	if logDir == "" {
		logDir = filepath.Join(e.OutputDir, "slurm_logs")
	}
	args := e.SbatchArgs
	if !hasArg(args, "array") {
		args = append(args, SbatchArg{"array", fmt.Sprintf("1-%d", len(exp.Runs))})
	}
	if args, err = ProcessSbatchArgs(args, e); err != nil {
		return nil, err
	}
	var expFile string
	for i, r := range exp.Runs {
		f, err := WriteExperimentFile(r.Dir, exp)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			expFile = f
		}
	}
	exe, err := s.executable()
	if err != nil {
		return nil, err
	}
	command, err := WrapTemplate(e.SbatchScriptTemplate, RunCommand(exe, expFile, "$SLURM_ARRAY_TASK_ID"))
	if err != nil {
		return nil, err
	}
	res := &Submitted{}
	id, script, err := s.submit(jobNameOf(exp.Runs[0]), command, args, logDir, e.SaveSbatchScripts, nil)
	if err != nil {
		return nil, err
	}
	res.Jobs = append(res.Jobs, id)
	if script != "" {
		res.Scripts = append(res.Scripts, script)
	}
	if e.Plot {
		if res.PlotJob, err = s.submitPlot(exe, expFile, args, logDir, e.SbatchScriptTemplate, res.Jobs); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (s *Slurm) submitJobs(exp *Experiment) (*Submitted, error) {
	es, err := engines(exp)
	if err != nil {
		return nil, err
	}
	exe, err := s.executable()
	if err != nil {
		return nil, err
	}
	res := &Submitted{}
	var lastArgs []SbatchArg
	var lastLog, lastFile string
	for i, r := range exp.Runs {
		e := es[i]
		args, err := ProcessSbatchArgs(e.SbatchArgs, e)
		if err != nil {
			return res, fmt.Errorf("run %d: %w", r.Index, err)
		}
		logDir := e.SlurmLogDir
		if logDir == "" {
			logDir = filepath.Join(r.Dir, "slurm_logs")
		}
		expFile, err := WriteExperimentFile(r.Dir, exp)
		if err != nil {
			return res, err
		}
		command, err := WrapTemplate(e.SbatchScriptTemplate, RunCommand(exe, expFile, strconv.Itoa(r.Index)))
		if err != nil {
			return res, err
		}
		id, script, err := s.submit(jobNameOf(r), command, args, logDir, e.SaveSbatchScripts, nil)
		if err != nil {
			return res, fmt.Errorf("run %d: %w", r.Index, err)
		}
		res.Jobs = append(res.Jobs, id)
		if script != "" {
			res.Scripts = append(res.Scripts, script)
		}
		lastArgs, lastLog, lastFile = args, logDir, expFile
	}
	anyPlot := false
	for _, e := range es {
		anyPlot = anyPlot || e.Plot
	}
	if anyPlot {
		if err := requireEqual(exp, es, []string{"slurm_log_dir", "sbatch_script_template"},
			"engine.plot=true and engine.run_scheduler=slurm_jobs"); err != nil {
			return res, err
		}
		if res.PlotJob, err = s.submitPlot(exe, lastFile, lastArgs, lastLog, es[0].SbatchScriptTemplate, res.Jobs); err != nil {
			return res, err
		}
	}
	return res, nil
}

// submitPlot submits the job that plots once the runs are done (afterany), on one node with two
// CPUs and no GPU, for five minutes.
func (s *Slurm) submitPlot(exe, expFile string, args []SbatchArg, logDir, template string, deps []int) (int, error) {
	plotArgs := PlotSbatchArgs(args)
	command, err := WrapTemplate(template, PlotCommand(exe, expFile))
	if err != nil {
		return 0, err
	}
	id, _, err := s.submit("FOB-plot", command, plotArgs, logDir, "", deps)
	if err != nil {
		return 0, fmt.Errorf("plot job: %w", err)
	}
	return id, nil
}

// submit writes the script (into scriptsDir, or a temporary folder when "") and runs sbatch.
// It returns the job id and the kept script's path.
func (s *Slurm) submit(name, command string, args []SbatchArg, logDir, scriptsDir string, deps []int) (int, string, error) {
	job := JobName(name, s.today())
	if !hasArg(args, "time") {
		args = append(append([]SbatchArg(nil), args...), SbatchArg{"time", defaultSbatchTime})
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return 0, "", err
	}
	kept := scriptsDir != ""
	if !kept {
		tmp, err := os.MkdirTemp("", "fob-sbatch-")
		if err != nil {
			return 0, "", err
		}
		defer os.RemoveAll(tmp)
		scriptsDir = tmp
	} else if err := os.MkdirAll(scriptsDir, 0o755); err != nil {
		return 0, "", err
	}
	script := filepath.Join(scriptsDir, job+".sh")
	if err := config.WriteFileAtomic(script, []byte(SbatchScript(job, logDir, args, command))); err != nil {
		return 0, "", err
	}
	sbatch := s.Sbatch
	if sbatch == "" {
		sbatch = "sbatch"
	}
	path, err := exec.LookPath(sbatch)
	if err != nil {
		return 0, "", fmt.Errorf("cannot submit to SLURM: %s not found (%v); engine.run_scheduler slurm_array and slurm_jobs need SLURM's sbatch on PATH (Debian: apt-get install slurm-client), or use engine.run_scheduler=sequential", sbatch, err)
	}
	cmdArgs := []string{}
	if len(deps) > 0 {
		ids := make([]string, len(deps))
		for i, d := range deps {
			ids[i] = strconv.Itoa(d)
		}
		cmdArgs = append(cmdArgs, "--dependency=afterany:"+strings.Join(ids, ":"))
	}
	cmdArgs = append(cmdArgs, script)
	var out, stderr bytes.Buffer
	cmd := exec.Command(path, cmdArgs...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return 0, "", fmt.Errorf("sbatch %s failed: %v: %s", strings.Join(cmdArgs, " "), err, strings.TrimSpace(stderr.String()+out.String()))
	}
	log := s.Log
	if log == nil {
		log = os.Stderr
	}
	fmt.Fprintln(log, strings.TrimSpace(out.String()))
	id, err := ParseSbatchOutput(out.String())
	if err != nil {
		return 0, "", err
	}
	if !kept {
		script = ""
	}
	return id, script, nil
}

func hasArg(args []SbatchArg, key string) bool {
	for _, a := range args {
		if a.Key == key {
			return true
		}
	}
	return false
}

func setArg(args []SbatchArg, key, value string) []SbatchArg {
	for i, a := range args {
		if a.Key == key {
			args[i].Value = value
			return args
		}
	}
	return append(args, SbatchArg{key, value})
}

func hasArgPrefix(args []SbatchArg, prefix string) bool {
	for _, a := range args {
		if strings.HasPrefix(a.Key, prefix) {
			return true
		}
	}
	return false
}

// ProcessSbatchArgs completes a run's sbatch options as FOB's process_args does: time is
// multiplied by engine.sbatch_time_factor (HH:MM:SS or seconds in, HH:MM:SS out, hours may pass
// 24); gres defaults to gpu:<devices> unless gres or gpus is given; ntasks-per-node to devices
// unless a key starts with ntasks; cpus-per-task to workers unless a key starts with cpus.
// The input is not modified.
func ProcessSbatchArgs(args []SbatchArg, e EngineConfig) ([]SbatchArg, error) {
	out := append([]SbatchArg(nil), args...)
	for i, a := range out {
		if a.Key != "time" {
			continue
		}
		secs, err := parseSbatchTime(a.Value)
		if err != nil {
			return nil, err
		}
		out[i].Value = FormatSbatchTime(int(e.SbatchTimeFactor * float64(secs)))
	}
	if !hasArg(out, "gres") && !hasArg(out, "gpus") {
		out = append(out, SbatchArg{"gres", fmt.Sprintf("gpu:%d", e.Devices)})
	}
	if !hasArgPrefix(out, "ntasks") {
		out = append(out, SbatchArg{"ntasks-per-node", strconv.Itoa(e.Devices)})
	}
	if !hasArgPrefix(out, "cpus") {
		out = append(out, SbatchArg{"cpus-per-task", strconv.Itoa(e.Workers)})
	}
	return out, nil
}

// PlotSbatchArgs turns a run job's options into the plot job's: five minutes, no array, no GPUs,
// one node with one task of two CPUs.
func PlotSbatchArgs(args []SbatchArg) []SbatchArg {
	var out []SbatchArg
	for _, a := range args {
		switch {
		case a.Key == "array", a.Key == "gpus", a.Key == "gres",
			strings.HasPrefix(a.Key, "ntasks"), strings.HasPrefix(a.Key, "cpus"):
			continue
		}
		out = append(out, a)
	}
	out = setArg(out, "time", FormatSbatchTime(300))
	out = setArg(out, "nodes", "1")
	out = setArg(out, "ntasks-per-node", "1")
	return setArg(out, "cpus-per-task", "2")
}

// parseSbatchTime reads HH:MM:SS (exactly three parts) or whole seconds.
func parseSbatchTime(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return n, nil
	}
	parts := strings.Split(s, ":")
	if len(parts) == 3 {
		total := 0
		ok := true
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 {
				ok = false
				break
			}
			total += n * []int{3600, 60, 1}[i]
		}
		if ok {
			return total, nil
		}
	}
	return 0, &config.KeyError{Key: "engine.sbatch_args.time", Msg: fmt.Sprintf("want HH:MM:SS or seconds, got %s", config.PyRepr(s))}
}

// FormatSbatchTime writes seconds as HH:MM:SS, hours at least two digits.
func FormatSbatchTime(secs int) string {
	return fmt.Sprintf("%02d:%02d:%02d", secs/3600, secs%3600/60, secs%60)
}

// jobNameOf is FOB's job name for a run: FOB-<task>-<optimizer>.
func jobNameOf(r Run) string {
	return fmt.Sprintf("FOB-%s-%s", config.PyStr(config.Sub(r.Config, "task")["name"]), config.PyStr(config.Sub(r.Config, "optimizer")["name"]))
}

// JobName makes a SLURM job name as FOB (slurmpy) does: spaces become "-", every character that
// is not a letter, digit or "-" is dropped (FOB-mnist-adamw_baseline → FOB-mnist-adamwbaseline),
// and the date is appended (-YYYY-MM-DD).
func JobName(name string, day time.Time) string {
	var b strings.Builder
	for _, r := range strings.ReplaceAll(name, " ", "-") {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' {
			b.WriteRune(r)
		}
	}
	return strings.Trim(b.String(), " -") + "-" + day.Format("2006-01-02")
}

// SbatchScript is the script FOB submits: log files, job name, one #SBATCH line per option in
// order ("--key=value", or "-k value" for one-letter keys), and the command. Bash strict mode is
// off, as in FOB.
func SbatchScript(jobName, logDir string, args []SbatchArg, command string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n\n#SBATCH -e %s/%s.%%J.err\n#SBATCH -o %s/%s.%%J.out\n#SBATCH -J %s\n\n", logDir, jobName, logDir, jobName, jobName)
	for i, a := range args {
		if i > 0 {
			b.WriteByte('\n')
		}
		if len(a.Key) > 1 {
			fmt.Fprintf(&b, "#SBATCH --%s=%s", a.Key, a.Value)
		} else {
			fmt.Fprintf(&b, "#SBATCH -%s %s", a.Key, a.Value)
		}
	}
	b.WriteString("\n\n\n\n\n###\n")
	b.WriteString(command)
	return b.String()
}

// WrapTemplate puts command into the template file (at __FOB_COMMAND__, or after the template
// when it has no placeholder); with no template it returns command.
func WrapTemplate(templatePath, command string) (string, error) {
	if templatePath == "" {
		return command, nil
	}
	data, err := os.ReadFile(templatePath)
	if err != nil {
		return "", fmt.Errorf("engine.sbatch_script_template: %w", err)
	}
	t := string(data)
	if strings.Contains(t, CommandPlaceholder) {
		return strings.ReplaceAll(t, CommandPlaceholder, command), nil
	}
	return t + "\n" + command + "\n", nil
}

// RunCommand is a job's command: fob runs run index (a number or $SLURM_ARRAY_TASK_ID) of the
// experiment file, without plotting.
func RunCommand(exe, experimentFile, index string) string {
	return fmt.Sprintf("srun %s run %s engine.run_scheduler=single:%s engine.plot=false", exe, experimentFile, index)
}

// PlotCommand is the plot job's command.
func PlotCommand(exe, experimentFile string) string {
	return fmt.Sprintf("srun %s plot %s", exe, experimentFile)
}

var submittedRE = regexp.MustCompile(`^Submitted batch job (\d+)`)

// ParseSbatchOutput reads the job id from sbatch's reply "Submitted batch job 123" (a trailing
// " on cluster x" is allowed).
func ParseSbatchOutput(out string) (int, error) {
	m := submittedRE.FindStringSubmatch(strings.TrimSpace(out))
	if m == nil {
		return 0, errors.New("sbatch did not confirm the submission: it said " + strconv.Quote(strings.TrimSpace(out)) + ", not \"Submitted batch job <id>\"")
	}
	return strconv.Atoi(m[1])
}
