// Package config reads the daemons' configuration files.
//
// Each daemon has one YAML file (examples in configs/). A key the daemon
// does not know, or a value it cannot use, stops it with a [KeyError] naming
// the key, the file and the line. Every scalar key can be overridden from
// the environment: SEALGATE_INNER_ or SEALGATE_OUTER_ followed by the key's
// path in capitals with dots as underscores (console.listen →
// SEALGATE_INNER_CONSOLE_LISTEN). Relative paths are taken relative to the
// directory holding the file.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Environment variable prefixes of the two daemons.
const (
	InnerEnvPrefix = "SEALGATE_INNER_"
	OuterEnvPrefix = "SEALGATE_OUTER_"
)

// Base holds the settings both daemons share.
type Base struct {
	DataDir       string        `yaml:"data_dir"`
	KeyDir        string        `yaml:"key_dir"`
	Log           Log           `yaml:"log"`
	Metrics       Metrics       `yaml:"metrics"`
	Database      Database      `yaml:"database"`
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	Audit         Audit         `yaml:"audit"`
	Update        Update        `yaml:"update"`
}

// Update configures signed release updates (docs/updates.md).
type Update struct {
	// ReleaseKeys are the release public keys (release.pub) a bundle's
	// signature must verify against; the installer puts them here. Empty:
	// every bundle is refused.
	ReleaseKeys []string `yaml:"release_keys"`
	// InstallDir holds releases/<version>/ and the current and previous
	// links; the systemd unit runs <install_dir>/current/<daemon>.
	InstallDir string `yaml:"install_dir"`
}

// Log configures the JSON log on stderr.
type Log struct {
	Level string `yaml:"level"` // debug, info, warn, error
}

// Metrics configures the Prometheus listener, kept apart from the web UI.
type Metrics struct {
	Listen string `yaml:"listen"`
	// TLS serves the metrics over HTTPS with the daemon's own certificate
	// (the console's or the portal's), as Prometheus' web.config.file does.
	TLS bool `yaml:"tls"`
	// BearerTokenFile, if set, holds the token a scraper must send
	// (Authorization: Bearer …; Prometheus' authorization.credentials_file).
	// The file is the daemon's alone (mode 0600 or stricter).
	BearerTokenFile string `yaml:"bearer_token_file"`
}

// MinBearerToken is the shortest metrics token accepted.
const MinBearerToken = 32

// BearerToken reads the metrics token, or "" when none is configured. Its
// errors are the file's (the caller names the key).
func (m *Metrics) BearerToken() (string, error) {
	if m.BearerTokenFile == "" {
		return "", nil
	}
	fi, err := os.Stat(m.BearerTokenFile)
	if err != nil {
		return "", err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s is mode %#o; it must be readable by the daemon only (0600)", m.BearerTokenFile, fi.Mode().Perm())
	}
	b, err := os.ReadFile(m.BearerTokenFile)
	if err != nil {
		return "", err
	}
	token := strings.TrimSpace(string(b))
	if len(token) < MinBearerToken || strings.ContainsAny(token, " \t\r\n") {
		return "", fmt.Errorf("the token must be one word of at least %d characters", MinBearerToken)
	}
	return token, nil
}

// HTTPS configures the operators' console or the officers' portal.
type HTTPS struct {
	Listen string `yaml:"listen"`
	// TLSCert and TLSKey name a PEM certificate and key; when both are empty a
	// self-signed certificate is generated under data_dir on first start.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// Hostnames go into the self-signed certificate besides the listen host.
	Hostnames []string `yaml:"hostnames"`
}

// Database selects the PostgreSQL server.
type Database struct {
	// URL of an external server; empty runs a private cluster in data_dir/pg.
	URL     string  `yaml:"url"`
	Private Private `yaml:"private"`
}

// Private configures the private cluster of appliance mode.
type Private struct {
	User   string `yaml:"user"`    // OS user postgres runs as when the daemon is root
	BinDir string `yaml:"bin_dir"` // where initdb and postgres are; empty searches
}

// Inner is sealgate-inner's configuration.
type Inner struct {
	Base `yaml:",inline"`
	// ApplianceNumber goes into the high 16 bits of every watermark this
	// appliance embeds, so a trace names the appliance as well as the export.
	ApplianceNumber int `yaml:"appliance_number"`
	// SiteName is the control centre's (the agency's) name, printed at the
	// head of the ledger's printouts and the monthly report.
	SiteName string        `yaml:"site_name"`
	Console  HTTPS         `yaml:"console"`
	Transfer InnerTransfer `yaml:"transfer"`
	Footage  Footage       `yaml:"footage"`
	Pipeline Pipeline      `yaml:"pipeline"`
	Children Children      `yaml:"children"`
}

// Children confines the processes that decode hostile video (inner/child,
// docs/architecture.md "Children").
type Children struct {
	// User is the unprivileged system user they run as when the daemon is
	// root; it must exist (`make deps` creates it).
	User     string        `yaml:"user"`
	MemoryMB int           `yaml:"memory_mb"` // memory each may map
	CPUTime  time.Duration `yaml:"cpu_time"`  // processor time each may use
}

// Footage configures where originals are kept and for how long.
type Footage struct {
	// Dir holds ingested originals; default <data_dir>/footage.
	Dir string `yaml:"dir"`
	// RetentionDays: originals are deleted this long after ingest unless an
	// open export holds them (site policy; the guideline's default is 30).
	RetentionDays int `yaml:"retention_days"`
	// ImportDir, if set, is the folder an NVR exports to: one subfolder
	// per camera (its VMS id or name); finished files are ingested and
	// leave it (inner/nvrimport). Empty: off.
	ImportDir string `yaml:"import_dir"`
}

// Pipeline configures the export jobs (inner/pipeline).
type Pipeline struct {
	// Workers run heavy stages (render, seal) at once on this node; one
	// keeps a 2-core appliance's console responsive.
	Workers int `yaml:"workers"`
	// WorkDir holds each export's intermediate and sealed files; default
	// <data_dir>/exports.
	WorkDir string `yaml:"work_dir"`
	// ReleaseCheck says when a masked export waits for an approver to
	// release it after the leak check: "suspects" (when it lists any
	// frame; the default) or "always".
	ReleaseCheck string `yaml:"release_check"`
}

// Release checks (Pipeline.ReleaseCheck).
const (
	ReleaseOnSuspects = "suspects"
	ReleaseAlways     = "always"
)

// InnerTransfer pairs the inner with the outer it pushes packages to.
type InnerTransfer struct {
	// OuterAddress is the outer's QUIC receiver, host:port; empty turns
	// transfer off (closed-network sites hand packages over on media).
	OuterAddress string `yaml:"outer_address"`
	// OuterFingerprint pins the outer's transfer key (`sealgate-outer keys show`).
	OuterFingerprint string `yaml:"outer_fingerprint"`
	// OuterLicense is the paired outer's license.pub: online exports are
	// sealed to it. Empty: only offline (password-sealed) exports.
	OuterLicense  string `yaml:"outer_license"`
	Streams       int    `yaml:"streams"`        // packages sent in parallel
	Connections   int    `yaml:"connections"`    // QUIC connections a package's lanes spread across
	BandwidthMbps int    `yaml:"bandwidth_mbps"` // cap on the link; 0: none
	// StatusEvery is how often a delivered package inside its viewing
	// window is asked about: a revocation, its downloads and plays for
	// the ledger (docs/transfer.md, "Destruction receipts").
	StatusEvery time.Duration `yaml:"status_every"`
}

// Outer is sealgate-outer's configuration.
type Outer struct {
	Base     `yaml:",inline"`
	Portal   HTTPS         `yaml:"portal"`
	Transfer OuterTransfer `yaml:"transfer"`
	Officers Officers      `yaml:"officers"`
	License  License       `yaml:"license"`
}

// License bounds the browser player's license service (docs/portal.md,
// "Player and license").
type License struct {
	// MaxPlays is how many licenses one officer may obtain for one
	// package over its viewing window; each play of the page takes one.
	MaxPlays int `yaml:"max_plays"`
}

// Officers configures officer self-registration at the portal.
type Officers struct {
	// EmailDomains are the official e-mail domains a registration may
	// give (e.g. police.go.kr; its subdomains count); empty: any.
	EmailDomains []string `yaml:"email_domains"`
}

func (o *Officers) validate(path string) error {
	var errs []error
	for i, d := range o.EmailDomains {
		o.EmailDomains[i] = strings.ToLower(strings.TrimSpace(d))
		if !domainRE.MatchString(o.EmailDomains[i]) {
			errs = append(errs, &KeyError{Source: path, Key: "officers.email_domains", Err: fmt.Errorf("%q is not a domain name (e.g. police.go.kr)", d)})
		}
	}
	return errors.Join(errs...)
}

var domainRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// OuterTransfer configures the receiver and the paired inner appliances.
type OuterTransfer struct {
	Listen       string `yaml:"listen"`         // UDP address of the QUIC receiver; empty: off
	StoreDir     string `yaml:"store_dir"`      // default <data_dir>/packages
	QuotaGB      int    `yaml:"quota_gb"`       // bytes the store may hold; 0: the disk
	MaxPackageGB int    `yaml:"max_package_gb"` // largest package accepted
	Streams      int    `yaml:"streams"`        // lanes at once per connection from an inner
	Peers        []Peer `yaml:"peers"`
}

// Peer is a paired inner appliance.
type Peer struct {
	Name string `yaml:"name"`
	// TransferFingerprint pins its transfer key (`sealgate-inner keys show`).
	TransferFingerprint string `yaml:"transfer_fingerprint"`
	// SigningPub is its signing.pub: packages must verify against it.
	SigningPub string `yaml:"signing_pub"`
}

func defaultBase(dataDir, metrics string) Base {
	return Base{
		DataDir:       dataDir,
		Update:        Update{InstallDir: "/opt/" + filepath.Base(dataDir)}, // /opt/sealgate-inner
		Log:           Log{Level: "info"},
		Metrics:       Metrics{Listen: metrics},
		Database:      Database{Private: Private{User: "postgres"}},
		ShutdownGrace: 10 * time.Second,
		Audit:         Audit{AnchorEvery: time.Hour},
	}
}

// LoadInner reads the inner daemon's file, applies the environment and validates.
func LoadInner(path string, environ []string) (*Inner, error) {
	c := &Inner{
		Base:            defaultBase("/var/lib/sealgate-inner", "127.0.0.1:9101"),
		ApplianceNumber: 1,
		Console:         HTTPS{Listen: "127.0.0.1:8443"},
		Transfer:        InnerTransfer{Streams: 4, Connections: 64, StatusEvery: time.Hour},
		Footage:         Footage{RetentionDays: 30},
		Pipeline:        Pipeline{Workers: 1, ReleaseCheck: ReleaseOnSuspects},
		Children:        Children{User: "sealgate-child", MemoryMB: 4096, CPUTime: 6 * time.Hour},
	}
	if err := loadFile(path, InnerEnvPrefix, environ, c); err != nil {
		return nil, err
	}
	c.Console.resolve(path)
	c.Transfer.OuterLicense = relativeTo(path, c.Transfer.OuterLicense)
	if c.Footage.Dir == "" {
		c.Footage.Dir = filepath.Join(c.DataDir, "footage")
	}
	c.Footage.Dir = relativeTo(path, c.Footage.Dir)
	if c.Footage.ImportDir != "" {
		c.Footage.ImportDir = relativeTo(path, c.Footage.ImportDir)
	}
	if c.Pipeline.WorkDir == "" {
		c.Pipeline.WorkDir = filepath.Join(c.DataDir, "exports")
	}
	c.Pipeline.WorkDir = relativeTo(path, c.Pipeline.WorkDir)
	var number, retention, workers error
	if c.ApplianceNumber < 1 || c.ApplianceNumber > 65535 {
		number = &KeyError{Source: path, Key: "appliance_number", Err: fmt.Errorf("%d is outside 1…65535", c.ApplianceNumber)}
	}
	if c.Footage.RetentionDays < 1 || c.Footage.RetentionDays > 3650 {
		retention = &KeyError{Source: path, Key: "footage.retention_days", Err: fmt.Errorf("%d is outside 1…3650", c.Footage.RetentionDays)}
	}
	if c.Pipeline.Workers < 1 || c.Pipeline.Workers > 64 {
		workers = &KeyError{Source: path, Key: "pipeline.workers", Err: fmt.Errorf("%d is outside 1…64", c.Pipeline.Workers)}
	}
	var release, site error
	if n := utf8.RuneCountInString(c.SiteName); n > 100 || !utf8.ValidString(c.SiteName) || strings.ContainsFunc(c.SiteName, unicode.IsControl) {
		site = &KeyError{Source: path, Key: "site_name", Err: errors.New("at most 100 printable characters")}
	}
	if c.Pipeline.ReleaseCheck != ReleaseOnSuspects && c.Pipeline.ReleaseCheck != ReleaseAlways {
		release = &KeyError{Source: path, Key: "pipeline.release_check", Err: fmt.Errorf("%q is neither %q nor %q", c.Pipeline.ReleaseCheck, ReleaseOnSuspects, ReleaseAlways)}
	}
	var children error
	switch {
	case c.Children.User == "" || c.Children.User == "root":
		children = &KeyError{Source: path, Key: "children.user", Err: fmt.Errorf("%q: children need an unprivileged user of their own", c.Children.User)}
	case c.Children.MemoryMB < 256 || c.Children.MemoryMB > 1<<20:
		children = &KeyError{Source: path, Key: "children.memory_mb", Err: fmt.Errorf("%d is outside 256…1048576", c.Children.MemoryMB)}
	case c.Children.CPUTime < time.Minute:
		children = &KeyError{Source: path, Key: "children.cpu_time", Err: fmt.Errorf("%v is under a minute", c.Children.CPUTime)}
	}
	if err := c.Base.validate(path, errors.Join(number, retention, workers, release, site, children, c.Console.validate(path, "console"), c.Transfer.validate(path))); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadOuter reads the outer daemon's file, applies the environment and validates.
func LoadOuter(path string, environ []string) (*Outer, error) {
	c := &Outer{
		Base:     defaultBase("/var/lib/sealgate-outer", "127.0.0.1:9102"),
		Portal:   HTTPS{Listen: "127.0.0.1:9443"},
		Transfer: OuterTransfer{Listen: "127.0.0.1:4433", MaxPackageGB: 64, Streams: 8},
		License:  License{MaxPlays: 20},
	}
	if err := loadFile(path, OuterEnvPrefix, environ, c); err != nil {
		return nil, err
	}
	c.Portal.resolve(path)
	if c.Transfer.StoreDir == "" {
		c.Transfer.StoreDir = filepath.Join(c.DataDir, "packages")
	}
	c.Transfer.StoreDir = relativeTo(path, c.Transfer.StoreDir)
	for i := range c.Transfer.Peers {
		c.Transfer.Peers[i].SigningPub = relativeTo(path, c.Transfer.Peers[i].SigningPub)
	}
	var plays error
	if c.License.MaxPlays < 1 || c.License.MaxPlays > 10000 {
		plays = &KeyError{Source: path, Key: "license.max_plays", Err: fmt.Errorf("%d is outside 1…10000", c.License.MaxPlays)}
	}
	if err := c.Base.validate(path, errors.Join(c.Portal.validate(path, "portal"), c.Transfer.validate(path), c.Officers.validate(path), plays)); err != nil {
		return nil, err
	}
	return c, nil
}

func loadFile(path, prefix string, environ []string, dst interface{ base() *Base }) error {
	data, err := readFile(path)
	if err != nil {
		return err
	}
	if err := load(path, data, prefix, environ, dst); err != nil {
		return err
	}
	b := dst.base()
	b.DataDir = relativeTo(path, b.DataDir)
	if b.KeyDir == "" {
		b.KeyDir = filepath.Join(b.DataDir, "keys")
	}
	b.KeyDir = relativeTo(path, b.KeyDir)
	b.Database.Private.BinDir = relativeTo(path, b.Database.Private.BinDir)
	b.Metrics.BearerTokenFile = relativeTo(path, b.Metrics.BearerTokenFile)
	b.Audit.resolve(path, b.DataDir)
	b.Update.InstallDir = relativeTo(path, b.Update.InstallDir)
	for i, k := range b.Update.ReleaseKeys {
		b.Update.ReleaseKeys[i] = relativeTo(path, k)
	}
	return nil
}

func (c *Inner) base() *Base { return &c.Base }
func (c *Outer) base() *Base { return &c.Base }

// PrivateDatabaseDir is where appliance mode keeps its cluster.
func (b *Base) PrivateDatabaseDir() string { return filepath.Join(b.DataDir, "pg") }

// LogLevel is the configured slog level.
func (b *Base) LogLevel() slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(b.Log.Level)) // validated at load
	return l
}

func (b *Base) validate(path string, more error) error {
	var errs []error
	bad := func(key string, err error) { errs = append(errs, &KeyError{Source: path, Key: key, Err: err}) }
	if b.DataDir == "" {
		bad("data_dir", errors.New("must be set"))
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(b.Log.Level)); err != nil {
		bad("log.level", fmt.Errorf("%q is not one of debug, info, warn, error", b.Log.Level))
	}
	if err := checkListen(b.Metrics.Listen); err != nil {
		bad("metrics.listen", err)
	}
	if _, err := b.Metrics.BearerToken(); err != nil {
		bad("metrics.bearer_token_file", err)
	}
	if b.ShutdownGrace <= 0 || b.ShutdownGrace > 5*time.Minute {
		bad("shutdown_grace", fmt.Errorf("%s is outside (0, 5m]", b.ShutdownGrace))
	}
	return errors.Join(append(errs, b.Audit.validate(path), more)...)
}

func (h *HTTPS) resolve(path string) {
	h.TLSCert, h.TLSKey = relativeTo(path, h.TLSCert), relativeTo(path, h.TLSKey)
}

func (h *HTTPS) validate(path, section string) error {
	var errs []error
	if err := checkListen(h.Listen); err != nil {
		errs = append(errs, &KeyError{Source: path, Key: section + ".listen", Err: err})
	}
	if (h.TLSCert == "") != (h.TLSKey == "") {
		errs = append(errs, &KeyError{Source: path, Key: section + ".tls_cert", Err: errors.New("tls_cert and tls_key must be set together")})
	}
	return errors.Join(errs...)
}

func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	if host != "" && net.ParseIP(host) == nil {
		return fmt.Errorf("%q: listen on an IP address, not a name", addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("%q: %w", addr, err)
	}
	return nil
}

// relativeTo resolves p against the config file's directory, to an absolute
// path: a relative socket directory would read as a host name to libpq's URL
// rules, and the daemon's working directory is not the file's.
func relativeTo(configPath, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	p = filepath.Join(filepath.Dir(configPath), p)
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

var fingerprintRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

func (t *InnerTransfer) validate(path string) error {
	var errs []error
	bad := func(key string, err error) {
		errs = append(errs, &KeyError{Source: path, Key: "transfer." + key, Err: err})
	}
	if t.OuterAddress != "" {
		if _, _, err := net.SplitHostPort(t.OuterAddress); err != nil {
			bad("outer_address", fmt.Errorf("%q is not host:port", t.OuterAddress))
		}
		if !fingerprintRE.MatchString(t.OuterFingerprint) {
			bad("outer_fingerprint", errors.New("must be the outer's transfer fingerprint, sha256: and 64 hex digits (sealgate-outer keys show)"))
		}
	}
	if t.Streams < 1 || t.Streams > 64 {
		bad("streams", fmt.Errorf("%d is outside 1…64", t.Streams))
	}
	if t.Connections < 1 || t.Connections > 255 {
		bad("connections", fmt.Errorf("%d is outside 1…255", t.Connections))
	}
	if t.BandwidthMbps < 0 {
		bad("bandwidth_mbps", errors.New("must not be negative"))
	}
	if t.StatusEvery < 10*time.Second || t.StatusEvery > 24*time.Hour {
		bad("status_every", fmt.Errorf("%s is outside 10s…24h", t.StatusEvery))
	}
	return errors.Join(errs...)
}

func (t *OuterTransfer) validate(path string) error {
	var errs []error
	bad := func(key string, err error) {
		errs = append(errs, &KeyError{Source: path, Key: "transfer." + key, Err: err})
	}
	if t.Listen != "" {
		if err := checkListen(t.Listen); err != nil {
			bad("listen", err)
		}
	}
	if t.Streams < 1 || t.Streams > 256 {
		bad("streams", fmt.Errorf("%d is outside 1…256", t.Streams))
	}
	if t.QuotaGB < 0 || t.MaxPackageGB < 1 {
		bad("quota_gb", errors.New("quota_gb must be ≥ 0 and max_package_gb ≥ 1"))
	}
	seen := map[string]bool{}
	for i, p := range t.Peers {
		key := fmt.Sprintf("peers[%d]", i)
		switch {
		case p.Name == "":
			bad(key+".name", errors.New("must be set"))
		case seen[p.Name]:
			bad(key+".name", fmt.Errorf("%q is paired twice", p.Name))
		}
		seen[p.Name] = true
		if !fingerprintRE.MatchString(p.TransferFingerprint) {
			bad(key+".transfer_fingerprint", errors.New("must be sha256: and 64 hex digits (sealgate-inner keys show)"))
		}
		if p.SigningPub == "" {
			bad(key+".signing_pub", errors.New("must name the inner's signing.pub"))
		}
	}
	return errors.Join(errs...)
}
