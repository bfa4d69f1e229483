package config_test

import (
	"math"
	"strings"
	"testing"

	"github.com/fob-go/fob/train/config"
)

func TestFormatFloat(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{0.001, "0.001"},
		{0.000316, "0.000316"},
		{1e-05, "1e-05"},
		{0.0001, "0.0001"},
		{1.0, "1.0"},
		{10.0, "10.0"},
		{1e16, "1e+16"},
		{1e15, "1000000000000000.0"},
		{1000000.0, "1000000.0"},
		{0.1, "0.1"},
		{1.0 / 3, "0.3333333333333333"},
		{1.5e-7, "1.5e-07"},
		{-2.5e+20, "-2.5e+20"},
		{1.2345678901234568e+17, "1.2345678901234568e+17"},
		{9999999999999998.0, "9999999999999998.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1e300, "1e+300"},
		{5e-324, "5e-324"},
		{math.Inf(1), "inf"},
		{math.NaN(), "nan"},
	} {
		if got := config.FormatFloat(tc.f); got != tc.want {
			t.Errorf("FormatFloat(%v) = %s, want %s", tc.f, got, tc.want)
		}
	}
}

func TestPyStr(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{1, "1"},
		{1.0, "1.0"},
		{true, "True"},
		{false, "False"},
		{nil, "None"},
		{"1e-3", "1e-3"},
		{[]any{1, 2}, "[1, 2]"},
		{[]any{"a", nil, 1.0, true}, "['a', None, 1.0, True]"},
		{[]any{"it's"}, `["it's"]`},
		{[]any{`a"b'c`}, `['a"b\'c']`},
		{config.Map{"b": 1, "a": []any{}}, "{'a': [], 'b': 1}"},
		{config.Literal{80, 10, 10}, "[80, 10, 10]"},
	} {
		if got := config.PyStr(tc.v); got != tc.want {
			t.Errorf("PyStr(%#v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}

func TestResolveScalar(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want any
	}{
		{"", nil}, {"~", nil}, {"null", nil}, {"NULL", nil},
		{"true", true}, {"False", false}, {"yes", true}, {"No", false}, {"on", true}, {"OFF", false},
		{"1", 1}, {"-7", -7}, {"+3", 3}, {"10_112", 10112}, {"0x1f", 31}, {"0o17", 15}, {"017", 15}, {"0b101", 5},
		{"1.0", 1.0}, {"1.", 1.0}, {".5", 0.5}, {"1.e-3", 0.001}, {"1.0e-2", 0.01}, {"1e-3", 0.001}, {"1E3", 1000.0},
		{"-1.5", -1.5}, {"1_000.5", 1000.5},
		{"00:05:00", "00:05:00"}, {"1:00:00", "1:00:00"}, {"2024-01-01", "2024-01-01"}, {"08", "08"},
		{"abc", "abc"}, {"y", "y"}, {"1e", "1e"}, {".", "."}, {"-", "-"}, {"single:5", "single:5"},
	} {
		got, err := config.ResolveScalar(tc.s)
		if err != nil {
			t.Errorf("ResolveScalar(%q): %v", tc.s, err)
			continue
		}
		if !config.Equal(got, tc.want) || typeName(got) != typeName(tc.want) {
			t.Errorf("ResolveScalar(%q) = %#v, want %#v", tc.s, got, tc.want)
		}
	}
	inf, _ := config.ResolveScalar("-.inf")
	nan, _ := config.ResolveScalar(".nan")
	if !math.IsInf(inf.(float64), -1) || !math.IsNaN(nan.(float64)) {
		t.Errorf("-.inf = %v, .nan = %v", inf, nan)
	}
	if _, err := config.ResolveScalar("99999999999999999999"); err == nil {
		t.Error("an integer beyond 64 bits must be an error")
	}
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case bool:
		return "bool"
	case int:
		return "int"
	case float64:
		return "float"
	case string:
		return "string"
	}
	return "other"
}

func TestDecode(t *testing.T) {
	text := `
a: 1
b: 1.0
c: '1'
d: !!float 2
e: !!str 3
f: !literal [80, 10, 10]
base: &base {x: 1, y: 2}
g:
  <<: *base
  y: 3
h: *base
`
	v, err := config.Decode([]byte(text), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := v.(config.Map)
	want := config.Map{
		"a": 1, "b": 1.0, "c": "1", "d": 2.0, "e": "3", "f": []any{80, 10, 10},
		"base": config.Map{"x": 1, "y": 2}, "g": config.Map{"x": 1, "y": 3}, "h": config.Map{"x": 1, "y": 2},
	}
	if !config.Equal(m, want) {
		t.Errorf("Decode = %v\nwant %v", config.PyStr(m), config.PyStr(want))
	}
	if _, isFloat := m["d"].(float64); !isFloat {
		t.Errorf("!!float 2 = %#v", m["d"])
	}
	o, err := config.DecodeOrdered([]byte("z: 1\na: !literal [1]\nm: 2\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	om := o.(*config.Ordered)
	if strings.Join(om.Keys(), ",") != "z,a,m" || om.Pos("m").Line != 3 {
		t.Errorf("keys %v, line of m %d", om.Keys(), om.Pos("m").Line)
	}
	if a, _ := om.Get("a"); !config.Equal(a, []any{1}) {
		t.Errorf("a = %#v", a)
	} else if _, ok := a.(config.Literal); !ok {
		t.Errorf("a is %T, want config.Literal", a)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"a: 1\nb: [1, 2\nc: 3\n", "f.yaml:2: malformed YAML: did not find expected ',' or ']'"},
		{"a: 1\n- b\n", "f.yaml:2: malformed YAML: did not find expected key"},
		{"a: 1\n\tb: 2\n", "f.yaml:2: malformed YAML: found a tab character"},
		{"a:\n  b: 1\n   c: 2\n", "f.yaml:3: malformed YAML"},
		{"a: 1\na: 2\n", `f.yaml:2: key "a" is defined twice (first on line 1); keep one`},
		{"a: !!int x\n", `f.yaml:1: !!int "x" is not an integer`},
		{"a: !python/tuple [1]\n", "f.yaml:1: unsupported tag !python/tuple on a list"},
		{"- 1\n- 2\n", "f.yaml:1: the top level must be a map of sections"},
		{"a: 123456789012345678901\n", "f.yaml:1: integer 123456789012345678901 is out of range"},
	} {
		_, err := config.ParseMap([]byte(tc.text), "f.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseMap(%q) error %v, want %q", tc.text, err, tc.want)
		}
	}
}

func TestMerge(t *testing.T) {
	lo := config.Map{
		"keep": 1,
		"m":    config.Map{"a": 1, "b": config.Map{"c": 2}},
		"l":    []any{1, 2, 3},
		"s":    config.Map{"x": 1},
	}
	hi := config.Map{
		"m":   config.Map{"b": config.Map{"d": 3}, "e": 4},
		"l":   []any{9},
		"s":   "now a string",
		"new": nil,
	}
	config.Merge(lo, hi)
	want := config.Map{
		"keep": 1,
		"m":    config.Map{"a": 1, "b": config.Map{"c": 2, "d": 3}, "e": 4},
		"l":    []any{9},
		"s":    "now a string",
		"new":  nil,
	}
	if !config.Equal(lo, want) {
		t.Errorf("Merge = %s\nwant %s", config.PyStr(lo), config.PyStr(want))
	}
	hi["l"].([]any)[0] = 0 // lo must not alias hi
	if lo["l"].([]any)[0] != 9 {
		t.Error("Merge aliases hi's lists")
	}
}

func TestEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b any
		want bool
	}{
		{1, 1.0, true}, {1, true, true}, {0, false, true}, {0.1, 0.1, true}, {1, 2, false},
		{"1", 1, false}, {nil, nil, true}, {nil, 0, false},
		{[]any{1, 2}, []any{1.0, 2}, true}, {[]any{1}, []any{1, 2}, false},
		{config.Map{"a": 1}, config.Map{"a": 1.0}, true}, {config.Map{"a": 1}, config.Map{"b": 1}, false},
		{config.Map{}, config.Map{}, true}, {config.Map{}, []any{}, false},
		{config.Literal{1, 2}, []any{1, 2}, true}, {math.NaN(), math.NaN(), false},
	} {
		if got := config.Equal(tc.a, tc.b); got != tc.want {
			t.Errorf("Equal(%#v, %#v) = %v", tc.a, tc.b, got)
		}
	}
}

// TestMarshalRoundTrip: what fob writes reads back to the same values and types.
func TestMarshalRoundTrip(t *testing.T) {
	in := config.Map{
		"ints":    []any{1, -2, 0},
		"floats":  []any{1.0, 1e-05, 0.001, 1e16, 1000000.0, math.Inf(1)},
		"strings": []any{"1e-3", "yes", "null", "1:00:00", "00:05:00", "", "a: b", "true", "1.0", "plain"},
		"nested":  config.Map{"list": []any{config.Map{"a": 1}, []any{1}}, "none": nil, "bool": false},
		"lit":     config.Literal{80, 10, 10},
	}
	data, err := config.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1.0e-05", "1.0e+16", "lit: !literal [80, 10, 10]", `"1e-3"`, `"yes"`, "floats: [1.0, 1.0e-05, 0.001, 1.0e+16, 1000000.0, .inf]"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("output lacks %q:\n%s", want, data)
		}
	}
	back, err := config.DecodeOrdered(data, "out.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if _, ok := back.(*config.Ordered).Get("lit"); !ok {
		t.Fatal("lit lost")
	}
	if lit, _ := back.(*config.Ordered).Get("lit"); func() bool { _, ok := lit.(config.Literal); return !ok }() {
		t.Errorf("!literal did not survive: %T", lit)
	}
	if !config.Equal(config.ToPlain(back), config.ToPlain(in)) {
		t.Errorf("round trip changed values:\n%s", data)
	}
	floats := config.ToPlain(back).(config.Map)["floats"].([]any)
	for i, f := range floats {
		if _, ok := f.(float64); !ok {
			t.Errorf("floats[%d] read back as %T", i, f)
		}
	}
	// Keys come out sorted.
	if i, j := strings.Index(string(data), "floats:"), strings.Index(string(data), "strings:"); i < 0 || j < i {
		t.Errorf("keys not sorted:\n%s", data)
	}
}

func TestEngineDefaults(t *testing.T) {
	m, err := config.ParseMap(config.EngineDefaultYAML, "engine.yaml")
	if err != nil {
		t.Fatal(err)
	}
	engine := config.Sub(m, "engine")
	if err := config.CheckEngine(engine); err != nil {
		t.Fatal(err)
	}
	if len(engine) != len(config.EngineKeys()) {
		t.Errorf("engine.yaml has %d keys, the schema %d: every engine key needs a default", len(engine), len(config.EngineKeys()))
	}
	for key, want := range map[string]any{
		"seed": 42, "workers": 16, "logging_interval": 50, "devices": nil, "resume": true, "deterministic": "warn",
		"precision": "bf16-mixed", "run_scheduler": "sequential", "sbatch_time_factor": 1, "data_mirror": nil, "backend": nil,
		"sbatch_args": config.Map{"nodes": 1, "mem-per-cpu": "2gb", "time": "00:30:00"},
	} {
		if !config.Equal(engine[key], want) {
			t.Errorf("engine.%s = %s, want %s", key, config.PyRepr(engine[key]), config.PyRepr(want))
		}
	}
	ev, err := config.ParseMap(config.EvaluationDefaultYAML, "evaluation.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]any{
		"evaluation.aggregate_groups": []any{"engine.seed"}, "evaluation.checkpoints": []any{"best", "last"},
		"evaluation.plot.x_axis": []any{"optimizer.weight_decay"}, "evaluation.plotstyle.dpi": 300,
		"evaluation.plotstyle.scale": 1.0, "evaluation.column_split_key": "optimizer.name",
	} {
		if got, _ := config.Get(ev, path); !config.Equal(got, want) {
			t.Errorf("%s = %s, want %s", path, config.PyRepr(got), config.PyRepr(want))
		}
	}
}

func TestCheckEngineKey(t *testing.T) {
	for _, tc := range []struct {
		key  string
		v    any
		want string // "" = valid
	}{
		{"seed", 1, ""}, {"seed", "abc", "engine.seed: want integer, got 'abc'"},
		{"seed", 1.5, "engine.seed: want integer, got 1.5"},
		{"foo", 1, "engine.foo: unknown engine key; valid keys: accelerator, backend, check_finite,"},
		{"deterministic", "warn", ""}, {"deterministic", true, ""}, {"deterministic", "yes please", "want true, false or warn"},
		{"devices", nil, ""}, {"devices", "4", "engine.devices: want integer or null, got '4'"},
		{"gradient_clip_alg", "max", "want norm or value"}, {"log_extra", config.Map{"log_params": true}, ""},
		{"resume", "ckpt/last.onnx", ""}, {"sbatch_args", "x", "want map of sbatch options"},
	} {
		err := config.CheckEngineKey(tc.key, tc.v)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s=%v: %v", tc.key, tc.v, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s=%v: error %v, want %q", tc.key, tc.v, err, tc.want)
		}
	}
}
