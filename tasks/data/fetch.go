package data

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Env says where a task's files live and where they may come from.
type Env struct {
	// DataDir is engine.data_dir; a task keeps its files in DataDir/<task>.
	DataDir string
	// Mirror is an offline copy of original downloads (engine.data_mirror, default
	// $FOB_DATA_MIRROR), read before any download; empty means none.
	Mirror string
	// Progress receives download progress; nil means os.Stderr.
	Progress io.Writer
}

// File is one file a task needs, as its canonical source publishes it.
type File struct {
	// Name is the file name inside the task folder (and inside the mirror subfolder).
	Name string
	// MirrorDir is the mirror subfolder holding the file (e.g. "cora"); empty means the task name.
	MirrorDir string
	// URLs are the canonical download locations, tried in order.
	URLs []string
	// SHA256 is the expected checksum (lower-case hex).
	SHA256 string
	// AltSHA256 lists other accepted checksums: for archives the mirror holds repacked, the
	// canonical download's checksum and the mirror copy's checksum differ.
	AltSHA256 []string
	// MD5 is the checksum the source publishes, checked as well when set.
	MD5 string
	// Size is the expected size in bytes of the file with checksum SHA256 (0: unknown); used for
	// progress and to tell a truncated file from a different one.
	Size int64
	// GoModule, when set, is a Go module whose source tree carries the file; it is read from the
	// module cache (downloaded with the go command when missing) before the URLs.
	GoModule *GoModule
	// Unpinned marks a file whose source publishes no checksum (a hub file that may be
	// re-uploaded); SHA256 is then empty and the content is taken as found. Name may hold a
	// sub-folder path.
	Unpinned bool
}

// ChecksumError reports a file whose content is not the expected one.
type ChecksumError struct {
	Path         string // the file (or URL) checked
	Expected     string // "SHA256 <hex>", or "MD5 <hex>" when only the MD5 failed
	Actual       string // the same for the content found
	Size         int64  // bytes found
	ExpectedSize int64  // bytes expected (0: unknown)
	Fix          string // what to do about it
}

// Error names the file, both checksums, a size mismatch if any, and the fix.
func (e *ChecksumError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "data: %s is damaged or not the expected file: checksum %s, expected %s", e.Path, e.Actual, e.Expected)
	if e.ExpectedSize > 0 && e.Size != e.ExpectedSize {
		fmt.Fprintf(&b, " (size %d bytes, expected %d", e.Size, e.ExpectedSize)
		if e.Size < e.ExpectedSize {
			b.WriteString(": truncated?")
		}
		b.WriteString(")")
	}
	if e.Fix != "" {
		b.WriteString("; ")
		b.WriteString(e.Fix)
	}
	return b.String()
}

// Verify checks the file at path against f's checksums; the error is a *ChecksumError when the
// content differs.
func Verify(path string, f File) error {
	return verify(path, f, "delete it and run `fob setup` again to fetch a fresh copy")
}

func verify(path string, f File, fix string) error {
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	defer fh.Close()
	sh, mh := sha256.New(), md5.New()
	n, err := io.Copy(io.MultiWriter(sh, mh), fh)
	if err != nil {
		return fmt.Errorf("data: reading %s: %w", path, err)
	}
	return check(path, f, n, sh.Sum(nil), mh.Sum(nil), fix)
}

func check(path string, f File, size int64, shaSum, md5Sum []byte, fix string) error {
	if f.Unpinned && f.SHA256 == "" {
		return nil
	}
	got := hex.EncodeToString(shaSum)
	ok := strings.EqualFold(got, f.SHA256)
	for _, alt := range f.AltSHA256 {
		ok = ok || strings.EqualFold(got, alt)
	}
	if !ok {
		return &ChecksumError{Path: path, Expected: "SHA256 " + f.SHA256, Actual: "SHA256 " + got, Size: size, ExpectedSize: f.Size, Fix: fix}
	}
	// The MD5 is only meaningful for the primary content (alternates are other encodings).
	if f.MD5 != "" && strings.EqualFold(got, f.SHA256) {
		if m := hex.EncodeToString(md5Sum); !strings.EqualFold(m, f.MD5) {
			return &ChecksumError{Path: path, Expected: "MD5 " + f.MD5, Actual: "MD5 " + m, Size: size, ExpectedSize: f.Size, Fix: fix}
		}
	}
	return nil
}

// Fetch returns the path of f in env.DataDir/<task>, verified. Where the file is not there yet it
// is copied from the mirror (env.Mirror/<f.MirrorDir or task>/<f.Name>), else from the Go module
// cache (f.GoModule), else downloaded from f.URLs; each copy goes through a temporary file and is
// verified before it is renamed into place. A file in the task folder with the wrong checksum is
// an error (it is never silently replaced), and so is a damaged mirror copy.
func Fetch(ctx context.Context, env Env, task string, f File) (string, error) {
	if env.DataDir == "" {
		return "", fmt.Errorf("data: no data directory set (engine.data_dir) for %s", f.Name)
	}
	if f.Name == "" || f.SHA256 == "" && !f.Unpinned {
		return "", fmt.Errorf("data: file spec for task %s needs Name and SHA256", task)
	}
	dst := filepath.Join(env.DataDir, task, f.Name)
	dir := filepath.Dir(dst)
	if _, err := os.Stat(dst); err == nil {
		if err := Verify(dst, f); err != nil {
			return "", err
		}
		return dst, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	var tried []string
	if env.Mirror != "" {
		sub := f.MirrorDir
		if sub == "" {
			sub = task
		}
		src := filepath.Join(env.Mirror, sub, f.Name)
		if _, err := os.Stat(src); err == nil {
			fix := "the mirror copy is damaged: replace it, or unset the mirror (engine.data_mirror, FOB_DATA_MIRROR) to download instead"
			if err := copyVerified(src, dst, f, fix); err != nil {
				return "", err
			}
			return dst, nil
		}
		tried = append(tried, "mirror "+src+" (absent)")
	}
	if f.GoModule != nil {
		modDir, err := f.GoModule.Locate(ctx)
		if err == nil {
			src := filepath.Join(modDir, filepath.FromSlash(f.GoModule.Dir), f.Name)
			if _, err := os.Stat(src); err == nil {
				fix := "the module cache copy is damaged: run `go clean -modcache` and try again"
				if err := copyVerified(src, dst, f, fix); err != nil {
					return "", err
				}
				return dst, nil
			}
			err = fmt.Errorf("%s not in the module", src)
		}
		tried = append(tried, fmt.Sprintf("Go module %s@%s (%v)", f.GoModule.Path, f.GoModule.Version, err))
	}
	// A damaged download from one URL does not stop the others; if none succeeds, the checksum
	// error is the one reported, as it is the most telling.
	var damaged error
	for _, u := range f.URLs {
		err := download(ctx, env.progress(), task, u, dst, f)
		if err == nil {
			return dst, nil
		}
		if ctx.Err() != nil {
			return "", err
		}
		var ce *ChecksumError
		if errors.As(err, &ce) {
			damaged = err
		}
		tried = append(tried, fmt.Sprintf("%s (%v)", u, err))
	}
	if damaged != nil {
		return "", damaged
	}
	return "", fmt.Errorf("data: cannot obtain %s for task %s (expected SHA256 %s); tried: %s; place the file there by hand or set a mirror",
		dst, task, f.SHA256, strings.Join(tried, "; "))
}

// FetchAll fetches files in order and returns their paths.
func FetchAll(ctx context.Context, env Env, task string, files ...File) ([]string, error) {
	paths := make([]string, len(files))
	for i, f := range files {
		p, err := Fetch(ctx, env, task, f)
		if err != nil {
			return nil, err
		}
		paths[i] = p
	}
	return paths, nil
}

func (e Env) progress() io.Writer {
	if e.Progress != nil {
		return e.Progress
	}
	return os.Stderr
}

// copyVerified copies src to dst through a temporary file in dst's folder, hashing on the way.
func copyVerified(src, dst string, f File, fix string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	defer in.Close()
	return writeVerified(in, src, dst, f, fix, nil)
}

// writeVerified streams r into a temporary file next to dst, checks the checksums (reporting
// label as the file's origin) and renames it into place; on any failure the temporary file goes.
func writeVerified(r io.Reader, label, dst string, f File, fix string, counter io.Writer) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), f.Name+".part-*")
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	sh, mh := sha256.New(), md5.New()
	ws := []io.Writer{tmp, sh, mh}
	if counter != nil {
		ws = append(ws, counter)
	}
	n, err := io.Copy(io.MultiWriter(ws...), r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("data: copying %s: %w", label, err)
	}
	if err := check(label, f, n, sh.Sum(nil), mh.Sum(nil), fix); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return nil
}

func download(ctx context.Context, out io.Writer, task, url, dst string, f File) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	total := resp.ContentLength
	if total <= 0 {
		total = f.Size
	}
	fmt.Fprintf(out, "%s: downloading %s from %s\n", task, f.Name, url)
	p := newProgress(out, f.Name, total)
	fix := "the download from " + url + " was damaged or the file there changed; run again to retry, or place a verified copy by hand"
	err = writeVerified(resp.Body, url, dst, f, fix, p)
	p.finish(err == nil)
	return err
}

// progress prints download progress: one rewritten line on a terminal, plain lines every few
// seconds otherwise (logs, CI).
type progress struct {
	out        io.Writer
	name       string
	total, n   int64
	tty        bool
	start      time.Time
	last       time.Time
	lineLength int
}

func newProgress(out io.Writer, name string, total int64) *progress {
	now := time.Now()
	return &progress{out: out, name: name, total: total, tty: isTerminal(out), start: now, last: now}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	every := 5 * time.Second
	if p.tty {
		every = 200 * time.Millisecond
	}
	if now := time.Now(); now.Sub(p.last) >= every {
		p.last = now
		p.print(p.line(now))
	}
	return len(b), nil
}

func (p *progress) print(s string) {
	if p.tty {
		pad := ""
		if d := p.lineLength - len(s); d > 0 {
			pad = strings.Repeat(" ", d)
		}
		fmt.Fprintf(p.out, "\r%s%s", s, pad)
		p.lineLength = len(s)
		return
	}
	fmt.Fprintln(p.out, s)
}

func (p *progress) line(now time.Time) string {
	el := now.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.n) / el
	}
	s := fmt.Sprintf("  %s: %s", p.name, humanBytes(p.n))
	if p.total > 0 {
		s += fmt.Sprintf(" / %s (%.0f%%)", humanBytes(p.total), 100*float64(p.n)/float64(p.total))
	}
	s += fmt.Sprintf(", %s/s", humanBytes(int64(rate)))
	if p.total > 0 && rate > 0 && p.n < p.total {
		eta := time.Duration(float64(p.total-p.n) / rate * float64(time.Second))
		s += ", ETA " + eta.Round(time.Second).String()
	}
	return s
}

func (p *progress) finish(ok bool) {
	now := time.Now()
	s := p.line(now)
	if ok {
		s += fmt.Sprintf(", done in %s", now.Sub(p.start).Round(100*time.Millisecond))
	} else {
		s += ", failed"
	}
	p.print(s)
	if p.tty {
		fmt.Fprintln(p.out)
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
