package opener

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

type playCmd struct {
	Player   string `help:"The program that plays a video from its standard input (default: the first of mpv, ffplay, vlc found)." placeholder:"COMMAND"`
	keyFlags `embed:""`
}

// players read a video from standard input; the first found plays.
var players = [][]string{{"mpv", "--really-quiet", "-"}, {"ffplay", "-loglevel", "error", "-autoexit", "-"}, {"vlc", "--play-and-exit", "-"}}

// Run decrypts into the player's standard input: the opener writes the
// video nowhere, and every chunk is authenticated before the player gets
// it. A player that stops reading (the officer closed it) is no error; a
// package that fails to authenticate is, whatever was shown before.
func (c *playCmd) Run(ctx context.Context, e *env) error {
	argv, err := c.player()
	if err != nil {
		return err
	}
	f, p, k, err := c.open(ctx, e)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(p.PayloadOffset, io.SeekStart); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = e.stderr, e.stderr
	w, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the player %s: %w", argv[0], err)
	}
	pipe := &playerPipe{w: w}
	decErr := p.Decrypt(pipe, bufio.NewReaderSize(f, 1<<20), k)
	w.Close()
	waitErr := cmd.Wait()
	switch {
	case decErr != nil && pipe.err == nil:
		return decErr
	case decErr != nil: // the player closed its input: the officer stopped watching
	case waitErr != nil:
		return fmt.Errorf("the player %s: %w", argv[0], waitErr)
	}
	if c.Signer == "" {
		unpinned(e.stdout, p)
	}
	return nil
}

func (c *playCmd) player() ([]string, error) {
	if c.Player != "" {
		argv := strings.Fields(c.Player)
		if len(argv) == 0 {
			return nil, errors.New("--player is empty")
		}
		if _, err := exec.LookPath(argv[0]); err != nil {
			return nil, fmt.Errorf("--player: %w", err)
		}
		return argv, nil
	}
	for _, argv := range players {
		if _, err := exec.LookPath(argv[0]); err == nil {
			return argv, nil
		}
	}
	return nil, errors.New("no video player found (mpv, ffplay or vlc): install one or name it with --player")
}

// playerPipe tells a player that stopped reading from a package that
// failed: only a write error is the player's.
type playerPipe struct {
	w   io.Writer
	err error
}

func (p *playerPipe) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if err != nil {
		p.err = err
	}
	return n, err
}
