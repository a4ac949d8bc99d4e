package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"sealgate/shared/audit"
	"sealgate/shared/buildinfo"
)

// recordStart audits the daemon's start with the SHA-256 of its effective
// configuration (file and environment overrides, as loaded), and a
// config.change entry when that differs from the previous start's.
func recordStart(ctx context.Context, log *audit.Log, cfg any) error {
	b, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("hash configuration: %w", err)
	}
	sum := fmt.Sprintf("sha256:%x", sha256.Sum256(b))
	prev, err := log.Query(ctx, audit.Filter{Action: "daemon.start", Limit: 1})
	if err != nil {
		return err
	}
	detail := "version " + buildinfo.Version + "; config " + sum
	if len(prev) == 1 && !strings.HasSuffix(prev[0].Detail, sum) {
		_, old, _ := strings.Cut(prev[0].Detail, "; config ")
		if err := log.Append(ctx, audit.Entry{Actor: "system", Action: "config.change", Detail: old + " → " + sum}); err != nil {
			return err
		}
	}
	return log.Append(ctx, audit.Entry{Actor: "system", Action: "daemon.start", Detail: detail})
}
