package train

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/train/config"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// LoopState is the training loop's own state, saved with every checkpoint so that a resumed
// run continues exactly where the checkpoint was taken.
type LoopState struct {
	// Epoch is the number of completed epochs; Step the number of completed optimisation steps.
	Epoch, Step int
	// Best is the best value of the target metric so far (nil: none yet) and BestEpoch when
	// it was reached.
	Best      *float64
	BestEpoch int
	// Stale counts epochs without improvement of the early-stopping metric; ESBest is its best.
	Stale  int
	ESBest *float64
	// StepTimes are the durations of every optimisation step so far, in seconds.
	StepTimes []float64
	// TrainSeconds is the wall time spent in training epochs so far.
	TrainSeconds float64
	// CSVBytes is the length of the metrics CSV at checkpoint time: rows past it came from a
	// part of the run that the checkpoint does not cover and are dropped on resume.
	CSVBytes int64
	// Finished marks a run whose training completed (for the max_epochs/max_steps of the
	// run that saved it; a resumed run with a larger budget goes on).
	Finished bool
	// EarlyStopped marks a run that early stopping ended.
	EarlyStopped bool
}

// stateFile is what <name>.state holds: the loop state plus every non-model variable of the
// context (optimizer moments, the RNG state), serialised with GoMLX's tensor gob encoding.
type stateFile struct {
	Loop json.RawMessage
	Vars []savedVar
}

type savedVar struct {
	Scope, Name string
	Tensor      []byte
}

// SaveCheckpoint writes <dir>/<name>.onnx (the model with current weights) and <dir>/<name>.state,
// each atomically; the state is written last, so a state file always has its model beside it.
func SaveCheckpoint(dir, name string, ctx *context.Context, m *Model, loop LoopState, meta map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	exported, err := m.Export(ctx, meta)
	if err != nil {
		return err
	}
	if err := onnx.Save(filepath.Join(dir, name+".onnx"), exported); err != nil {
		return err
	}
	st := stateFile{}
	if st.Loop, err = json.Marshal(loop); err != nil {
		return err
	}
	modelScope := "/" + modelScopeName()
	for v := range ctx.IterVariables() {
		if v.Scope() == modelScope || len(v.Scope()) > len(modelScope) && v.Scope()[:len(modelScope)+1] == modelScope+"/" {
			continue // the ONNX file holds these
		}
		t, err := v.Value()
		if err != nil {
			return fmt.Errorf("checkpoint: variable %s: %w", v.ScopeAndName(), err)
		}
		var buf bytes.Buffer
		if err := t.GobSerialize(gob.NewEncoder(&buf)); err != nil {
			return fmt.Errorf("checkpoint: variable %s: %w", v.ScopeAndName(), err)
		}
		st.Vars = append(st.Vars, savedVar{Scope: v.Scope(), Name: v.Name(), Tensor: buf.Bytes()})
	}
	sort.Slice(st.Vars, func(i, j int) bool {
		return st.Vars[i].Scope+"/"+st.Vars[i].Name < st.Vars[j].Scope+"/"+st.Vars[j].Name
	})
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(st); err != nil {
		return err
	}
	return config.WriteFileAtomic(filepath.Join(dir, name+".state"), buf.Bytes())
}

// LoadState reads <path>.state: it restores the saved variables into ctx (before any graph is
// built, so optimizers find their moments) and returns the loop state.
func LoadState(path string, ctx *context.Context) (LoopState, error) {
	var loop LoopState
	raw, err := os.ReadFile(path)
	if err != nil {
		return loop, fmt.Errorf("resume: %w", err)
	}
	var st stateFile
	if err := gob.NewDecoder(bytes.NewReader(raw)).Decode(&st); err != nil {
		return loop, fmt.Errorf("resume: %s is not a fob checkpoint state (%v); delete it or set engine.resume=false", path, err)
	}
	if err := json.Unmarshal(st.Loop, &loop); err != nil {
		return loop, fmt.Errorf("resume: %s: %w", path, err)
	}
	for _, sv := range st.Vars {
		t, err := tensors.GobDeserialize(gob.NewDecoder(bytes.NewReader(sv.Tensor)))
		if err != nil {
			return loop, fmt.Errorf("resume: %s: variable %s/%s: %w", path, sv.Scope, sv.Name, err)
		}
		if v := ctx.GetVariableByScopeAndName(sv.Scope, sv.Name); v != nil {
			if err := v.SetValue(t); err != nil {
				return loop, fmt.Errorf("resume: %s: variable %s/%s: %w", path, sv.Scope, sv.Name, err)
			}
			continue
		}
		ctx.InAbsPath(sv.Scope).Checked(false).VariableWithValue(sv.Name, t).SetTrainable(false)
	}
	return loop, nil
}
