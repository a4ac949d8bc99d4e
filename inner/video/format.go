package video

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Format is what the container says about a recording: its format name
// and, when the recorder wrote one, the time recording began.
type Format struct {
	Container string    // e.g. "mov,mp4,m4a,3gp,3g2,mj2", "mpegts", "matroska,webm"
	StartedAt time.Time // zero when the file carries no creation_time
}

// ReadFormat asks ffprobe for the container's format and creation time.
// Probe has already judged whether the file is video; this only labels it.
func ReadFormat(ctx context.Context, path string) (*Format, error) {
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_entries", "format=format_name:format_tags=creation_time",
		"-of", "json", "file:"+path).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return nil, fmt.Errorf("%w: %s", ErrNotVideo, firstLine(string(ee.Stderr)))
		}
		return nil, fmt.Errorf("video: run ffprobe: %w", err)
	}
	var doc struct {
		Format struct {
			Name string            `json:"format_name"`
			Tags map[string]string `json:"tags"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("video: ffprobe's answer: %w", err)
	}
	f := &Format{Container: doc.Format.Name}
	if s := strings.TrimSpace(doc.Format.Tags["creation_time"]); s != "" {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil && t.Year() > 1970 {
			f.StartedAt = t.UTC()
		}
	}
	return f, nil
}
