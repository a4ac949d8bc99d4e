package config_test

import (
	"strings"
	"testing"

	"sealgate/shared/config"
)

// The license block: 20 plays by default, and a count outside its bounds
// named by its key.
func TestOuterLicensePlays(t *testing.T) {
	c, err := config.LoadOuter(write(t, "data_dir: data\n"), nil)
	if err != nil || c.License.MaxPlays != 20 {
		t.Fatalf("default max_plays: %+v, %v", c.License, err)
	}
	c, err = config.LoadOuter(write(t, "license:\n  max_plays: 3\n"), nil)
	if err != nil || c.License.MaxPlays != 3 {
		t.Fatalf("max_plays 3: %+v, %v", c.License, err)
	}
	if _, err := config.LoadOuter(write(t, "license:\n  max_plays: 0\n"), nil); err == nil || !strings.Contains(err.Error(), "license.max_plays") {
		t.Fatalf("max_plays 0: %v", err)
	}
}
