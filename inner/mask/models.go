package mask

import "os"

// DefaultModelsDir is where the face model is looked for: $SEALGATE_MODELS,
// else /usr/share/sealgate/models if it exists, else var/assets (where
// make deps puts it, relative to the repository).
func DefaultModelsDir() string {
	if d := os.Getenv("SEALGATE_MODELS"); d != "" {
		return d
	}
	if _, err := os.Stat("/usr/share/sealgate/models"); err == nil {
		return "/usr/share/sealgate/models"
	}
	return "var/assets"
}
