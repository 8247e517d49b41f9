package jobs

import (
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd, args string
	stage     int // index of the FROM it belongs to
}

func parseDockerfile(t *testing.T) []instruction {
	t.Helper()
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	stage := -1
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cmd, args, _ := strings.Cut(line, " ")
		cmd = strings.ToUpper(cmd)
		if cmd == "FROM" {
			stage++
		}
		out = append(out, instruction{cmd: cmd, args: strings.Join(strings.Fields(args), " "), stage: stage})
	}
	return out
}

// The image builds static, version-stamped binaries from cmd/ and runs
// them as the nonroot user on distroless; the manifests run binaries the
// image has.
func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t)
	var froms []string
	binaries := map[string]bool{}
	var build, entrypoint, user string
	last := 0
	for _, in := range ins {
		last = max(last, in.stage)
	}
	for _, in := range ins {
		switch {
		case in.cmd == "FROM":
			froms = append(froms, in.args)
		case in.cmd == "RUN" && strings.Contains(in.args, "go build"):
			build = in.args
		case in.cmd == "COPY" && in.stage == last && strings.HasPrefix(in.args, "--from=build "):
			f := strings.Fields(in.args)
			if dst := f[len(f)-1]; dst != "/usr/local/bin/" {
				t.Errorf("COPY %s: want the binaries in /usr/local/bin/", in.args)
			}
			for _, src := range f[1 : len(f)-1] {
				binaries[path.Base(src)] = true
			}
		case in.cmd == "USER" && in.stage == last:
			user = in.args
		case in.cmd == "ENTRYPOINT" && in.stage == last:
			entrypoint = in.args
		}
	}
	if len(froms) != 2 || !strings.HasPrefix(froms[0], "--platform=$BUILDPLATFORM golang:") || !strings.HasSuffix(froms[0], " AS build") {
		t.Errorf("FROM lines %q: want a golang build stage named build, then the runtime", froms)
	}
	if len(froms) > 0 && !regexp.MustCompile(`^gcr\.io/distroless/static-debian\d+:nonroot( AS \w+)?$`).MatchString(froms[len(froms)-1]) {
		t.Errorf("final FROM %q: want distroless static, nonroot", froms[len(froms)-1])
	}
	if !strings.HasPrefix(user, "65532") {
		t.Errorf("final USER %q, want 65532 (distroless nonroot), the manifests' runAsUser", user)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w -X main.version=${VERSION}"`} {
		if !strings.Contains(build, want) {
			t.Errorf("go build line %q: want %s", build, want)
		}
	}
	want := []string{"loadgen", "reconcile", "sandbox"}
	if got := slices.Sorted(maps.Keys(binaries)); !slices.Equal(got, want) {
		t.Errorf("the image has %v, want %v", got, want)
	}
	for b := range binaries {
		if !strings.Contains(build, "./cmd/"+b) {
			t.Errorf("go build line %q does not build ./cmd/%s", build, b)
		}
		src, err := os.ReadFile(filepath.Join("..", "cmd", b, "main.go"))
		if err != nil || !strings.Contains(string(src), "\nfunc main() {") {
			t.Errorf("cmd/%s/main.go: %v, want a main package", b, err)
		}
	}
	for _, b := range []string{"reconcile", "loadgen"} { // the ones with -version
		if src, _ := os.ReadFile(filepath.Join("..", "cmd", b, "main.go")); !strings.Contains(string(src), "\nvar version = ") {
			t.Errorf("cmd/%s/main.go has no var version for -X main.version", b)
		}
	}
	if m := regexp.MustCompile(`^\["(/usr/local/bin/(\w+))"\]$`).FindStringSubmatch(entrypoint); m == nil || !binaries[m[2]] {
		t.Errorf("ENTRYPOINT %s: want one of the image's binaries", entrypoint)
	}
	ws, _, _ := split(t, load(t))
	for _, w := range ws {
		for _, c := range w.pod().Containers {
			if dir, b := path.Split(c.Command[0]); dir != "/usr/local/bin/" || !binaries[b] {
				t.Errorf("%s: container %s runs %s, which the image does not have", w.file, c.Name, c.Command[0])
			}
		}
	}
}

// The build context holds what the build copies, and nothing else.
func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			rules = append(rules, l)
		}
	}
	if len(rules) == 0 || rules[0] != "*" {
		t.Fatalf(".dockerignore rules %q: want * first, then the exceptions", rules)
	}
	for _, in := range parseDockerfile(t) {
		if in.cmd != "COPY" || strings.HasPrefix(in.args, "--from=") {
			continue
		}
		f := strings.Fields(in.args)
		for _, src := range f[:len(f)-1] {
			name := strings.TrimSuffix(src, "/")
			if !slices.Contains(rules, "!"+name) && !slices.Contains(rules, "!"+name+"/") {
				t.Errorf("COPY %s: .dockerignore excludes %s", in.args, src)
			}
		}
	}
}
