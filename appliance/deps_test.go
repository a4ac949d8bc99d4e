// Package appliance_test guards the build's trust rules: the exposed side
// carries no C code (docs/architecture.md, "Trust rules" 8), and imports flow down only
// (appliance → inner|outer → transfer → shared).
package appliance_test

import (
	"debug/elf"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

type pkg struct {
	ImportPath string
	Standard   bool
	CgoFiles   []string
	Imports    []string
}

// list runs `go list -deps -json` with the given environment additions.
func list(t *testing.T, env []string, patterns ...string) []pkg {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-deps", "-json=ImportPath,Standard,CgoFiles,Imports"}, patterns...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestExposedBinariesArePureGo proves sealgate-outer and sealgate-open pull in
// neither gocv nor any cgo package, and link statically with CGO_ENABLED=0.
func TestExposedBinariesArePureGo(t *testing.T) {
	for _, name := range []string{"sealgate-outer", "sealgate-open"} {
		t.Run(name, func(t *testing.T) {
			main := "sealgate/appliance/cmd/" + name
			// With cgo enabled, so a dependency that would need it shows up.
			for _, p := range list(t, []string{"CGO_ENABLED=1"}, main) {
				if strings.HasPrefix(p.ImportPath, "gocv.io/") || p.ImportPath == "C" {
					t.Errorf("%s depends on %s", name, p.ImportPath)
				}
				if !p.Standard && len(p.CgoFiles) > 0 {
					t.Errorf("%s depends on cgo package %s (%v)", name, p.ImportPath, p.CgoFiles)
				}
				if p.ImportPath == "testing" {
					t.Errorf("%s links the testing package", name)
				}
			}
			bin := filepath.Join(t.TempDir(), name)
			build := exec.Command("go", "build", "-o", bin, "./cmd/"+name)
			build.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
			}
			f, err := elf.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
					t.Errorf("%s is dynamically linked (program header %v)", name, p.Type)
				}
			}
			if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
				t.Errorf("%s needs shared libraries %v", name, libs)
			}
		})
	}
}

// layer ranks the top-level folders; a package may import only its own
// layer or lower ones, and inner and outer never import each other.
var layer = map[string]int{"shared": 0, "transfer": 1, "inner": 2, "outer": 2, "appliance": 3}

// TestImportsFlowDown checks the layers. Test-support packages (named *test: pgtest, transfertest, daemontest…)
// set up real parts for tests, so they may reach the layer that owns a
// part (transfertest keeps packages in outer/pkgstore's directory, as the
// outer does), never appliance; and only tests and other test-support
// packages import them.
func TestImportsFlowDown(t *testing.T) {
	for _, p := range list(t, nil, "sealgate/...") {
		from, ok := top(p.ImportPath)
		if !ok {
			continue
		}
		support := strings.HasSuffix(p.ImportPath, "test")
		for _, imp := range p.Imports {
			to, ok := top(imp)
			if !ok {
				continue
			}
			if strings.HasSuffix(imp, "test") && !support {
				t.Errorf("%s imports the test-support package %s", p.ImportPath, imp)
			}
			if support && layer[to] < layer["appliance"] {
				continue
			}
			if layer[to] > layer[from] || (layer[to] == layer[from] && to != from) {
				t.Errorf("%s imports %s: %s may not depend on %s", p.ImportPath, imp, from, to)
			}
		}
	}
}

func top(importPath string) (string, bool) {
	rest, ok := strings.CutPrefix(importPath, "sealgate/")
	if !ok {
		return "", false
	}
	dir, _, _ := strings.Cut(rest, "/")
	_, known := layer[dir]
	return dir, known
}

// TestDaemonPackagesOnlyWire keeps appliance/innerd and appliance/outerd to
// subcommands and wiring: pages live in inner/console (and outer/portal),
// SQL with the package that owns its tables (docs/architecture.md, "Where
// things live").
func TestDaemonPackagesOnlyWire(t *testing.T) {
	sqlWord := regexp.MustCompile(`(?i)\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)\b`)
	for _, dir := range []string{"innerd", "outerd"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if ext := filepath.Ext(path); ext != ".go" {
				t.Errorf("%s: a %s file in a wiring package", path, ext)
				return nil
			}
			if strings.HasSuffix(path, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, forbidden := range []string{"//go:embed", `"github.com/labstack/echo/v4"`, `"github.com/jackc/pgx/v5"`} {
				if strings.Contains(string(b), forbidden) {
					t.Errorf("%s: %s in a wiring package", path, forbidden)
				}
			}
			if m := sqlWord.Find(b); m != nil {
				t.Errorf("%s: SQL (%q) in a wiring package", path, m)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
