package deploy

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// recipe is the Containerfile's build line, split into the go command's
// arguments and its environment, so that the test builds exactly what the
// image would hold.
type recipe struct {
	args []string // after "go"
	env  []string // ENV lines of the build stage
	user string   // the runtime stage's USER
}

func readRecipe(t *testing.T) recipe {
	t.Helper()
	f, err := os.Open("Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r recipe
	envLine := regexp.MustCompile(`^ENV ([A-Z_]+)=(\S+)$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "RUN go build "):
			args, err := shellWords(strings.TrimPrefix(line, "RUN go "))
			if err != nil {
				t.Fatalf("Containerfile: %s: %v", line, err)
			}
			r.args = args
		case r.args == nil && envLine.MatchString(line):
			m := envLine.FindStringSubmatch(line)
			r.env = append(r.env, m[1]+"="+m[2])
		case strings.HasPrefix(line, "USER "):
			r.user = strings.TrimPrefix(line, "USER ")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if r.args == nil {
		t.Fatal("Containerfile: no `RUN go build ...` line")
	}
	return r
}

// shellWords splits a command line as sh does for the quoting the recipe
// uses: spaces separate words, double quotes group them.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in, started := false, false
	for _, c := range s {
		switch {
		case c == '"':
			in, started = !in, true
		case c == ' ' && !in:
			if started {
				words = append(words, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteRune(c)
			started = true
		}
	}
	if in {
		return nil, os.ErrInvalid
	}
	if started {
		words = append(words, cur.String())
	}
	return words, nil
}

// TestContainerfileBinary builds netrecon as the Containerfile does and checks
// that the image's runtime stage (no libc, a non-root numeric user) can run it.
func TestContainerfileBinary(t *testing.T) {
	r := readRecipe(t)
	for _, want := range []string{"-trimpath", "-ldflags"} {
		if !strings.Contains(strings.Join(r.args, " "), want) {
			t.Errorf("the build line lacks %s: %q", want, r.args)
		}
	}
	if !regexp.MustCompile(`^[0-9]+:[0-9]+$`).MatchString(r.user) || strings.HasPrefix(r.user, "0:") {
		t.Errorf("USER %q: want a numeric non-root uid:gid, so that runAsNonRoot can check it", r.user)
	}
	if !strings.Contains(strings.Join(r.env, " "), "CGO_ENABLED=0") {
		t.Errorf("the build stage does not set CGO_ENABLED=0: %q", r.env)
	}

	dir := t.TempDir()
	out := filepath.Join(dir, "netrecon")
	args := make([]string, 0, len(r.args))
	for i := 0; i < len(r.args); i++ {
		a := strings.ReplaceAll(r.args[i], "${VERSION}", "deploytest")
		switch {
		case a == "-o":
			args = append(args, "-o", out)
			i++
		case strings.HasPrefix(a, "./"):
			args = append(args, filepath.Join("..", a))
		default:
			args = append(args, a)
		}
	}
	build := exec.Command("go", args...)
	build.Env = append(os.Environ(), r.env...)
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}

	assertStatic(t, out)

	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(out, args...)
		// The runtime image's environment: no PATH to a shell or libc, HOME
		// on the cache volume.
		cmd.Env = []string{"HOME=" + dir, "XDG_CACHE_HOME=" + dir, "TMPDIR=" + dir}
		if os.Geteuid() == 0 {
			uid, gid := 65532, 65532
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		}
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("netrecon %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	if os.Geteuid() == 0 {
		// The user 65532 must reach the binary: t.TempDir's folders are 0700.
		for d := dir; d != filepath.Dir(os.TempDir()) && d != "/"; d = filepath.Dir(d) {
			if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o005 != 0o005 {
				if err := os.Chmod(d, st.Mode().Perm()|0o055); err != nil {
					t.Fatal(err)
				}
			}
		}
	} else {
		t.Log("not root: netrecon runs as this user, not as the image's 65532")
	}
	if v := run("version"); !strings.HasPrefix(v, "netrecon deploytest ") {
		t.Errorf("netrecon version = %q: want the version the build line stamps", v)
	}
	if h := run("serve", "--help"); !strings.Contains(h, "--config") {
		t.Errorf("netrecon serve --help does not mention --config:\n%s", h)
	}
}

// assertStatic fails unless the ELF file at path asks for no dynamic loader
// and no shared library: the distroless static image has neither.
func assertStatic(t *testing.T, path string) {
	t.Helper()
	problems, err := staticProblems(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s %s", path, p)
	}
}

// staticProblems says what in the ELF file at path needs a dynamic loader.
func staticProblems(path string) ([]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var problems []string
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			problems = append(problems, "has a PT_INTERP program header: it needs a dynamic loader")
		case elf.PT_DYNAMIC:
			problems = append(problems, "has a PT_DYNAMIC program header: it is linked dynamically")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return nil, err
	}
	if len(libs) > 0 {
		problems = append(problems, fmt.Sprintf("needs shared libraries (DT_NEEDED): %v", libs))
	}
	return problems, nil
}

// TestStaticProblemsDynamic: the check finds a dynamically linked program
// (the system's shell, linked against libc on Debian) out.
func TestStaticProblemsDynamic(t *testing.T) {
	sh, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	problems, err := staticProblems(sh)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) == 0 {
		t.Errorf("%s: no problem found in a dynamically linked program", sh)
	}
}

func TestShellWords(t *testing.T) {
	got, err := shellWords(`build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/x ./cmd/netrecon`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"build", "-trimpath", "-ldflags", "-s -w -X main.version=${VERSION}", "-o", "/out/x", "./cmd/netrecon"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("shellWords = %q, want %q", got, want)
	}
	if _, err := shellWords(`a "b`); err == nil {
		t.Error("an open quote: no error")
	}
}
