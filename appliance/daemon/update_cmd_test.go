package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"sealgate/appliance/daemon"
	"sealgate/shared/audit"
	"sealgate/shared/buildinfo"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/pgcluster"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/shared/update"
)

// tinyBinary builds, once per test, a tiny program that prints the name
// of the release directory it runs from: what current points at.
func tinyBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	prog := "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\t\"path/filepath\"\n)\n\n" +
		"func main() {\n\tp, _ := os.Executable()\n\tfmt.Println(filepath.Base(filepath.Dir(p)))\n}\n"
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	bin := filepath.Join(dir, "sealgate-inner")
	cmd := exec.Command(goBin, "build", "-o", bin, src)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "CGO_ENABLED=0", "GO111MODULE=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the test binary with %s (the Go toolchain is needed): %v\n%s", goBin, err, out)
	}
	return bin
}

// tinyRelease bundles bin as version, as make release does (update.Write,
// the code behind sealgate-release bundle).
func tinyRelease(t *testing.T, bin, keyFile, version string) string {
	t.Helper()
	dir := t.TempDir()
	sbom := filepath.Join(dir, "sealgate-inner.cdx.json")
	if err := os.WriteFile(sbom, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	priv, err := update.ReadPrivateKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "sealgate-inner-"+version+".tar.gz")
	if _, err := update.Write(out, update.Release{Kind: "inner", Version: version, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Files: []string{bin, sbom}}, priv); err != nil {
		t.Fatal(err)
	}
	return out
}

// runCurrent runs the installed release's binary and returns what it printed.
func runCurrent(t *testing.T, installDir string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(installDir, "current", "sealgate-inner")).CombinedOutput()
	if err != nil {
		t.Fatalf("run current/sealgate-inner: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// withUpdate is the command tree as each daemon has it: the shared one
// plus its one line for update.
type withUpdate struct {
	daemon.CLI `embed:""`
	Update     daemon.UpdateCmd `cmd:""`
}

func runUpdate(t *testing.T, app *daemon.App, args ...string) (int, string) {
	t.Helper()
	out := app.Stdout.(*bytes.Buffer)
	out.Reset()
	code := daemon.Main(context.Background(), app, &withUpdate{}, args)
	return code, out.String()
}

func TestUpdateApplyRefuseRollbackAudited(t *testing.T) {
	app, configPath, _ := testApp(t)
	app.Name = "sealgate-inner"
	// The harness's server, prepared as an operator would an external one:
	// each command then connects instead of starting a private cluster.
	url := pgtest.NewDatabase(t, nil)
	if err := daemon.Setup(context.Background(), pgtest.RoleURL(t, url, pgcluster.OwnerRole), pgcluster.AppRole, migrations); err != nil {
		t.Fatal(err)
	}
	app.Environ = []string{config.InnerEnvPrefix + "DATABASE_URL=" + pgtest.RoleURL(t, url, pgcluster.AppRole)}
	keyDir, strangerDir := filepath.Join(t.TempDir(), "release"), filepath.Join(t.TempDir(), "stranger")
	for _, d := range []string{keyDir, strangerDir} {
		if _, err := update.Keygen(d); err != nil {
			t.Fatal(err)
		}
	}
	installDir := filepath.Join(filepath.Dir(configPath), "opt")
	f, err := os.OpenFile(configPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "update:\n  release_keys: [%s]\n  install_dir: %s\n", filepath.Join(keyDir, "release.pub"), installDir)
	f.Close()
	bin := tinyBinary(t)
	was := buildinfo.Version
	buildinfo.Version = "v1.0.0"
	t.Cleanup(func() { buildinfo.Version = was })

	if code, out := runUpdate(t, app, "update", "apply", "--config", configPath, tinyRelease(t, bin, filepath.Join(keyDir, "release.key"), "v1.1.0")); code != 0 {
		t.Fatalf("apply v1.1.0: exit %d\n%s", code, out)
	}
	if got := runCurrent(t, installDir); got != "v1.1.0" {
		t.Fatalf("current runs %q", got)
	}
	code, out := runUpdate(t, app, "update", "apply", "--config", configPath, tinyRelease(t, bin, filepath.Join(strangerDir, "release.key"), "v1.2.0"))
	if code == 0 || !strings.Contains(out, "signature does not verify against the trusted release keys") {
		t.Fatalf("a bundle signed by another key: exit %d\n%s", code, out)
	}
	if code, out := runUpdate(t, app, "update", "apply", "--config", configPath, "--json", tinyRelease(t, bin, filepath.Join(keyDir, "release.key"), "v1.2.0")); code != 0 || !strings.Contains(out, `"previous":"v1.1.0"`) {
		t.Fatalf("apply v1.2.0: exit %d\n%s", code, out)
	}
	if code, out := runUpdate(t, app, "update", "rollback", "--config", configPath); code != 0 || !strings.Contains(out, "current is v1.1.0 again") {
		t.Fatalf("rollback: exit %d\n%s", code, out)
	}
	if got := runCurrent(t, installDir); got != "v1.1.0" {
		t.Fatalf("after rollback current runs %q", got)
	}
	if code, out := runUpdate(t, app, "update", "status", "--config", configPath, "--json"); code != 0 || !strings.Contains(out, `"current":"v1.1.0"`) || !strings.Contains(out, `"previous":"v1.2.0"`) {
		t.Fatalf("status: exit %d\n%s", code, out)
	}

	var got []string
	err = daemon.WithDatabase(context.Background(), app, configPath, func(_ *config.Base, _ *daemon.Database, log *audit.Log, _ *keys.Secrets) error {
		es, err := log.Query(context.Background(), audit.Filter{Action: "update."})
		for i := len(es) - 1; i >= 0; i-- {
			got = append(got, es[i].Action+" "+es[i].Outcome+" "+es[i].Target)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"update.apply ok v1.1.0", "update.apply denied sealgate-inner-v1.2.0.tar.gz", "update.apply ok v1.2.0", "update.rollback ok v1.1.0"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
