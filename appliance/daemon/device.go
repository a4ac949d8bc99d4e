package daemon

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"sealgate/shared/accountui"
	"sealgate/shared/audit"
	"sealgate/shared/buildinfo"
	"sealgate/shared/keys"
	"sealgate/shared/web"
)

// Dir is one of a daemon's directories whose free space /metrics and the
// device page show: Name is the metrics' dir label and, after
// "device.dir.", the page's i18n key.
type Dir struct{ Name, Path string }

// device gathers the admins' device page (docs/operations.md, "Device
// page") from the running daemon: nothing is cached but the start time.
type device struct {
	spec    *Spec
	cert    *web.Cert
	log     *audit.Log
	started time.Time
	anchor  *anchoring
}

func (d *device) facts(ctx context.Context) (*accountui.Device, error) {
	now := time.Now()
	f := &accountui.Device{Daemon: d.spec.Name, Version: buildinfo.Version, GoVersion: runtime.Version(),
		Started: d.started, Uptime: now.Sub(d.started).Truncate(time.Second), Clock: clock(now)}
	f.Host, _ = os.Hostname()
	dirs := append([]Dir{{"data", d.spec.Base.DataDir}, {"keys", d.spec.Base.KeyDir}}, d.spec.Dirs...)
	for _, dir := range dirs {
		f.Disks = append(f.Disks, disk(dir))
	}
	f.Certificate = accountui.Certificate{Fingerprint: d.cert.Fingerprint, Generated: d.spec.Web.TLSCert == ""}
	if leaf, err := x509.ParseCertificate(d.cert.TLS.Certificate[0]); err == nil {
		f.Certificate.NotAfter = leaf.NotAfter
		f.Certificate.DaysLeft = int(time.Until(leaf.NotAfter).Hours() / 24)
		f.Certificate.Expires = f.Certificate.DaysLeft < 30
	}
	var err error
	if f.Keys, err = keyFiles(d.spec.Base.KeyDir, now); err != nil {
		return nil, err
	}
	f.Anchor = d.anchor.last()
	for _, ev := range []struct {
		prefix string
		dst    **accountui.Event
	}{{"backup.create", &f.Backup}, {"update.", &f.Update}} {
		es, err := d.log.Query(ctx, audit.Filter{Action: ev.prefix, Limit: 1})
		if err != nil {
			return nil, fmt.Errorf("device page: %w", err)
		}
		if len(es) == 1 {
			*ev.dst = &accountui.Event{At: es[0].At, OK: es[0].Outcome == audit.OK, Detail: es[0].Action + ": " + es[0].Detail}
		}
	}
	return f, nil
}

// disk is the free space of the file system holding dir.
func disk(dir Dir) accountui.Disk {
	d := accountui.Disk{Name: "device.dir." + dir.Name, Path: dir.Path}
	free, total, err := dirSpace(dir.Path)
	if err != nil {
		d.Err = err.Error()
		return d
	}
	d.Free, d.Total = free, total
	if d.Total > 0 {
		d.FreePercent = 100 * float64(d.Free) / float64(d.Total)
	}
	d.Low = d.FreePercent < 10
	d.FreeText, d.TotalText = bytesText(d.Free), bytesText(d.Total)
	return d
}

func bytesText(n uint64) string {
	const gib = 1 << 30
	if n >= gib {
		return fmt.Sprintf("%.1f GiB", float64(n)/gib)
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}

// keyFiles lists the key directory: each file's mode and age, and the
// fingerprints of the public keys (keys show's, to compare at pairing).
// A file others can read is flagged: the daemon refuses to start with an
// unsafe private key, but a mode can change under it.
func keyFiles(dir string, now time.Time) ([]accountui.KeyFile, error) {
	pubs, err := keys.Show(dir)
	if err != nil {
		return nil, fmt.Errorf("device page: %w", err)
	}
	byFile := map[string]keys.Public{}
	for _, p := range pubs {
		byFile[filepath.Base(p.File)] = p
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("device page: %w", err)
	}
	var out []accountui.KeyFile
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		k := accountui.KeyFile{File: e.Name(), Mode: fmt.Sprintf("%04o", info.Mode().Perm()), Modified: info.ModTime(),
			AgeDays: int(now.Sub(info.ModTime()).Hours() / 24)}
		if p, ok := byFile[e.Name()]; ok {
			k.Name, k.Fingerprint = p.Name+" ("+p.Algorithm+")", p.Fingerprint
		} else {
			k.Unsafe = info.Mode().Perm()&0o077 != 0
		}
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, nil
}

// clock reads the kernel's synchronisation state (adjtimex, read only):
// what NTP (chrony, systemd-timesyncd) has told it.
func clock(now time.Time) accountui.Clock {
	c := accountui.Clock{Now: now}
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		c.Err = err.Error()
		return c
	}
	c.Synced = state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0
	c.ErrorMS = float64(tx.Esterror) / 1000
	return c
}
