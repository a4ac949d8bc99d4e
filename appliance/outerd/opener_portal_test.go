package outerd_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pquerna/otp/totp"

	"sealgate/appliance/opener"
	"sealgate/shared/account"
)

// TestOpenerDecryptsThroughThePortal: `sealgate-open decrypt --portal`
// signs the officer in through the portal's own sign-in pages (password,
// then TOTP) and decrypts a downloaded package with the key its license
// releases: one play, audited. A wrong code, another officer and an
// unpinned certificate are refused.
func TestOpenerDecryptsThroughThePortal(t *testing.T) {
	cfg, k, d, svc := playerDaemon(t, 20)
	ctx := context.Background()
	clip := fragmentedClip(t, 3)
	id := storeClip(t, cfg, k, clip, "officer.han", "SG-2026-000501")
	dir := t.TempDir()
	pkg := filepath.Join(dir, "SG-2026-000501.sgpkg")
	src, err := os.ReadFile(filepath.Join(cfg.Transfer.StoreDir, id+".sgpkg"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(pkg, src, 0o600) // as downloaded from the portal

	// An officer whose first sign-in is done: own password, TOTP enrolled.
	const password = "Namsan tower 236 meters up!"
	officer := func(name string) (secret string, recovery []string) {
		t.Helper()
		u, pw, err := svc.CreateUser(ctx, account.Actor{Name: "test"}, account.NewUser{Username: name, Role: "officer"})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.ChangePassword(ctx, account.Actor{Name: name}, u.ID, pw, password, nil); err != nil {
			t.Fatal(err)
		}
		e, err := svc.BeginTOTP(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		code, _ := totp.GenerateCode(e.Secret, time.Now())
		if recovery, err = svc.ConfirmTOTP(ctx, account.Actor{Name: name}, u, code, ""); err != nil {
			t.Fatal(err)
		}
		return e.Secret, recovery
	}
	_, recovery := officer("officer.han")
	_, other := officer("officer.yoon")
	pwFile := filepath.Join(dir, "password")
	os.WriteFile(pwFile, []byte(password+"\n"), 0o600)
	base := "https://" + d.Addrs.Web.String()
	open := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := opener.Main(ctx, args, &out, &errb)
		return code, out.String() + errb.String()
	}
	common := func(user, code, out string) []string {
		return []string{"decrypt", "--portal", base, "--portal-fingerprint", d.Addrs.CertFingerprint, "--username", user,
			"--password-file", pwFile, "--totp", code, "--out", filepath.Join(dir, out), pkg}
	}

	if code, msg := open(common("officer.han", "000000", "wrong.mp4")...); code == 0 || !strings.Contains(msg, "refused the TOTP") {
		t.Errorf("a wrong code: exit %d, %s", code, msg)
	}
	if code, msg := open(common("officer.yoon", other[0], "other.mp4")...); code == 0 || !strings.Contains(msg, "refused the license") {
		t.Errorf("another officer: exit %d, %s", code, msg)
	}
	unpinned := common("officer.han", recovery[1], "unpinned.mp4")
	unpinned = append(unpinned[:3], unpinned[5:]...) // no --portal-fingerprint: the self-signed certificate is not trusted
	if code, msg := open(unpinned...); code == 0 || !strings.Contains(msg, "certificate") {
		t.Errorf("an unpinned self-signed portal: exit %d, %s", code, msg)
	}
	code, msg := open(common("officer.han", recovery[0], "clip.mp4")...)
	if code != 0 || !strings.Contains(msg, "play 1 of 20") {
		t.Fatalf("decrypt --portal: exit %d, %s", code, msg)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "clip.mp4"))
	want, _ := os.ReadFile(clip)
	if !bytes.Equal(got, want) {
		t.Fatal("the decrypted video differs from the clip")
	}
	for _, f := range []string{"wrong.mp4", "other.mp4", "unpinned.mp4"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("a refused decrypt left %s", f)
		}
	}

	// play hands the decrypted stream to a player's standard input and
	// writes nothing itself; a player that stops reading early is no error.
	player := filepath.Join(dir, "player.sh")
	os.WriteFile(player, []byte("#!/bin/sh\ncat > "+filepath.Join(dir, "played.mp4")+"\n"), 0o700)
	playArgs := func(code, player string) []string {
		return []string{"play", "--portal", base, "--portal-fingerprint", d.Addrs.CertFingerprint, "--username", "officer.han",
			"--password-file", pwFile, "--totp", code, "--player", player, pkg}
	}
	if code, msg := open(playArgs(recovery[2], player)...); code != 0 || !strings.Contains(msg, "play 2 of 20") {
		t.Fatalf("play --portal: exit %d, %s", code, msg)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "played.mp4")); !bytes.Equal(got, want) {
		t.Fatalf("the player got %d bytes, not the clip's %d", len(got), len(want))
	}
	if code, msg := open(playArgs(recovery[3], "head -c 1000")...); code != 0 {
		t.Fatalf("a player closed early: exit %d, %s", code, msg)
	}

	pool, err := pgxpool.New(ctx, cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var releases, sessions int
	pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'license.release' AND actor = 'officer.han' AND target = $1`, id).Scan(&releases)
	pool.QueryRow(ctx, `SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'officer.han'`).Scan(&sessions)
	if releases != 3 || sessions != 0 {
		t.Errorf("%d releases audited (want 3: a decrypt and two plays), %d sessions left open (want 0: the opener signs out)", releases, sessions)
	}
}
