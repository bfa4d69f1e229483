package config

import "testing"

// TestMarshalStringsRoundTrip: strings with line breaks and other control characters read back
// unchanged from what Marshal writes (a lone "\n" was written as the block scalar "|2+", which
// reads back empty; found by FuzzDecode).
func TestMarshalStringsRoundTrip(t *testing.T) {
	for _, s := range []string{"\n", "\n\n", "a\n", "a\nb", " \n", "\t", "a\rb", "\x00", "\x7f", "x\u2028y", "\ufeffa", "plain", "1e-3", "yes", "1:00:00", ""} {
		text, err := Marshal(Map{"k": s})
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		back, err := ParseMap(text, "back.yaml")
		if err != nil {
			t.Fatalf("%q: %v\n%s", s, err, text)
		}
		if back["k"] != s {
			t.Errorf("%q reads back as %q from\n%s", s, back["k"], text)
		}
	}
}
