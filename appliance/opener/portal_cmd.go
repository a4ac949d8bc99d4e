package opener

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/term"

	"sealgate/shared/seal"
)

// portalFlags name the portal that holds a package for the officer and how
// to sign in there (docs/portal.md, "Opening a downloaded package").
type portalFlags struct {
	Portal             string `help:"The police portal's address (https://…): sign in there and take the package's key from it, within the viewing period." placeholder:"URL"`
	PortalCert         string `help:"The portal's certificate fingerprint (sha256:…, as the outer prints it and its admin pages show it); without it the system's certificate authorities must vouch for the portal." placeholder:"sha256:…"`
	User               string `help:"Your portal account (the package's recipient)."`
	PortalPasswordFile string `type:"existingfile" help:"File holding your portal password; without it you are asked."`
	TOTP               string `name:"totp" help:"Your authenticator's current code; without it you are asked." placeholder:"CODE"`
}

// key signs the officer in at the portal and takes package p's key from
// it: the portal releases it only to the package's recipient, inside the
// viewing window and within its play count, wrapped to a key made here for
// this one request. The session is ended after.
func (pf *portalFlags) key(ctx context.Context, e *env, f *os.File, p *seal.Package) (*seal.Key, error) {
	if pf.User == "" {
		return nil, errors.New("--portal needs --user (your portal account)")
	}
	id, err := fileSHA256(f)
	if err != nil {
		return nil, err
	}
	cl, err := dialPortal(pf.Portal, pf.PortalCert)
	if err != nil {
		return nil, err
	}
	in := bufio.NewReader(e.stdin)
	password, err := pf.password(e, in)
	if err != nil {
		return nil, err
	}
	defer clear(password)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	err = cl.signIn(ctx, pf.User, password, func() (string, error) {
		if pf.TOTP != "" {
			return pf.TOTP, nil
		}
		return ask(e, in, "One-time code from your authenticator: ", false)
	})
	if err != nil {
		return nil, err
	}
	defer cl.signOut(context.WithoutCancel(ctx))
	k, lic, err := cl.license(ctx, p, f, id)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(e.stderr, "The portal released the key to %s: play %d of %d.\n", pf.User, lic.Play, lic.MaxPlays)
	return k, nil
}

func (pf *portalFlags) password(e *env, in *bufio.Reader) ([]byte, error) {
	if pf.PortalPasswordFile != "" {
		return seal.ReadPasswordFile(pf.PortalPasswordFile)
	}
	s, err := ask(e, in, "Portal password for "+pf.User+": ", true)
	return []byte(s), err
}

// ask prompts on stderr and reads one line; a secret is read without echo
// when the input is a terminal.
func ask(e *env, in *bufio.Reader, prompt string, secret bool) (string, error) {
	fmt.Fprint(e.stderr, prompt)
	if f, ok := e.stdin.(*os.File); ok && secret && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		return string(b), err
	}
	line, err := in.ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		return "", fmt.Errorf("read %s: %w", strings.TrimSuffix(prompt, ": "), err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// fileSHA256 is the package's id at the portal, read from f and rewound.
func fileSHA256(f *os.File) (string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash the package: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

type playCmd struct {
	PasswordFile string `type:"existingfile" help:"File holding the package's password (an offline package)."`
	portalFlags  `embed:""`
	Player       string `help:"The program that plays the video from its standard input (default: the first of mpv, ffplay, vlc found)." placeholder:"COMMAND"`
	Signer       string `help:"Who must have signed: the control center's signing.pub, or its key id as the hand-over slip prints it (sha256:…); without it the signer is only reported."`
	Package      string `arg:"" type:"existingfile" help:"Package file."`
}

// players read a video from standard input; the first found plays.
var players = [][]string{{"mpv", "--really-quiet", "-"}, {"ffplay", "-loglevel", "error", "-autoexit", "-"}, {"vlc", "--play-and-exit", "-"}}

// Run decrypts into the player's standard input: the video is never
// written to disk here, and every chunk is authenticated before the
// player sees it. A player that stops early (the officer closed it) is no
// error; a package that fails to authenticate is, whatever was shown.
func (c *playCmd) Run(ctx context.Context, e *env) error {
	f, p, err := openFile(c.Package, c.Signer)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := checkWindow(p.Manifest, time.Now()); err != nil {
		return err
	}
	argv, err := c.player()
	if err != nil {
		return err
	}
	k, err := unlock(ctx, e, f, p, c.PasswordFile, &c.portalFlags)
	if err != nil {
		return err
	}
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

// playerPipe tells a player that stopped reading from a package that failed.
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
