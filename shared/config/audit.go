package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"
)

// Audit configures the export of the audit chain's signed head (an
// anchor) off the appliance (docs/operations.md, "Audit anchors"): an
// insider who rewrites or truncates the log in the database cannot also
// reach the copies a SIEM already holds.
type Audit struct {
	// AnchorEvery is how often the daemon anchors the chain's head.
	AnchorEvery time.Duration `yaml:"anchor_every"`
	// AnchorFile holds the latest anchor; `audit verify` checks against
	// it by default. Default <data_dir>/audit-anchor.json.
	AnchorFile string `yaml:"anchor_file"`
	// SIEMFile, if set, gets each anchor appended as one JSON line, for a
	// log shipper to carry off the box.
	SIEMFile string `yaml:"siem_file"`
	// Syslog, if set, gets each anchor as a JSON message:
	// udp://host:port, tcp://host:port or unix:///dev/log.
	Syslog string `yaml:"syslog"`
}

func (a *Audit) resolve(path, dataDir string) {
	if a.AnchorFile == "" {
		a.AnchorFile = filepath.Join(dataDir, "audit-anchor.json")
	}
	a.AnchorFile = relativeTo(path, a.AnchorFile)
	if a.SIEMFile != "" {
		a.SIEMFile = relativeTo(path, a.SIEMFile)
	}
}

func (a *Audit) validate(path string) error {
	var errs []error
	bad := func(key string, err error) {
		errs = append(errs, &KeyError{Source: path, Key: "audit." + key, Err: err})
	}
	if a.AnchorEvery < time.Minute || a.AnchorEvery > 24*time.Hour {
		bad("anchor_every", fmt.Errorf("%s is outside 1m…24h", a.AnchorEvery))
	}
	if a.Syslog != "" {
		if _, _, err := a.SyslogTarget(); err != nil {
			bad("syslog", err)
		}
	}
	return errors.Join(errs...)
}

// SyslogTarget is the network and address of Syslog, as log/syslog.Dial
// takes them.
func (a *Audit) SyslogTarget() (network, addr string, err error) {
	u, err := url.Parse(a.Syslog)
	if err != nil {
		return "", "", fmt.Errorf("%q is not a URL: %w", a.Syslog, err)
	}
	switch {
	case (u.Scheme == "udp" || u.Scheme == "tcp") && u.Port() != "" && u.Path == "":
		return u.Scheme, u.Host, nil
	case u.Scheme == "unix" && u.Host == "" && u.Path != "":
		return "unixgram", u.Path, nil
	}
	return "", "", fmt.Errorf("%q is not udp://host:port, tcp://host:port or unix:///path", a.Syslog)
}
