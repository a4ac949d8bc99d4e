package accountui

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"
)

// Device is what the admins' device page shows of the appliance
// (docs/operations.md, "Device page"); the daemon gathers it
// (appliance/daemon) each time the page is asked for.
type Device struct {
	Daemon, Version, GoVersion, Host string
	Started                          time.Time
	Uptime                           time.Duration
	Disks                            []Disk
	Certificate                      Certificate
	Keys                             []KeyFile
	Clock                            Clock
	Anchor                           *Event // the audit chain's last anchor (audit.anchor_file)
	Backup                           *Event // the last backup, from the audit log
	Update                           *Event // the last update applied or refused, from the audit log
}

// Disk is the space of one of the daemon's directories.
type Disk struct {
	Name, Path          string // Name: an i18n key
	Free, Total         uint64 // bytes
	FreePercent         float64
	Low                 bool // under 10 % free
	FreeText, TotalText string
	Err                 string
}

// Certificate is the web UI's TLS certificate.
type Certificate struct {
	Fingerprint        string
	NotAfter           time.Time
	DaysLeft           int
	Generated, Expires bool // Generated: self-signed at first start; Expires: within 30 days
}

// KeyFile is one file of the key directory: a public key with the
// fingerprint to compare at pairing, or a private key whose mode matters.
type KeyFile struct {
	File, Name, Fingerprint string
	Mode                    string
	Unsafe                  bool // readable by anyone but the daemon
	Modified                time.Time
	AgeDays                 int
}

// Clock is the kernel's time synchronisation (adjtimex): exports carry
// timestamps as evidence, so an unsynchronised clock is shown as such.
type Clock struct {
	Now     time.Time
	Synced  bool
	ErrorMS float64 // the kernel's estimated error
	Err     string  // why the state could not be read
}

// Event is a dated fact: an anchor, a backup, an update.
type Event struct {
	At     time.Time
	Detail string
	OK     bool
}

// devicePage renders Config.Device's facts.
func (ui *UI) devicePage(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 10*time.Second)
	defer cancel()
	d, err := ui.cfg.Device(ctx)
	if err != nil {
		return err
	}
	return ui.Render(c, View{Name: "device", Title: "device.title", Data: d})
}
