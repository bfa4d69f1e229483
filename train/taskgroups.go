package train

import (
	"fmt"

	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/optim"
)

// taskGroups is model.Groups, regrouped by the task when it is a tasks.ParamGrouper.
func taskGroups(task tasks.Task, model *Model) ([]optim.Group, []optim.Param, error) {
	groups, params, err := model.Groups()
	pg, ok := task.(tasks.ParamGrouper)
	if err != nil || !ok {
		return groups, params, err
	}
	infos := make([]optim.ParamInfo, len(model.Params))
	names := make([]string, len(model.Params))
	for i, p := range model.Params {
		infos[i] = optim.ParamInfo{Name: p.Name, Shape: p.Shape}
		names[i] = p.Name
	}
	if groups, err = pg.ParamGroups(infos); err != nil {
		return nil, nil, fmt.Errorf("tasks/%s: parameter groups: %w", task.Name(), err)
	}
	idx, err := optim.AssignGroups(groups, names)
	if err != nil {
		return nil, nil, fmt.Errorf("tasks/%s: parameter groups: %w", task.Name(), err)
	}
	for i := range params {
		params[i].Group = idx[i]
	}
	return groups, params, nil
}
