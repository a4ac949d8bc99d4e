package backup

import (
	"fmt"
	"os"
	"strings"

	"filippo.io/age"
)

// MinPassphrase is the shortest passphrase a backup is encrypted with: the
// archive holds every key of the appliance.
const MinPassphrase = 16

// Recipients reads an age recipients file (one public key a line, "age1…",
// as age-keygen prints it; # comments).
func Recipients(file string) ([]age.Recipient, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("backup: recipients: %w", err)
	}
	defer f.Close()
	rs, err := age.ParseRecipients(f)
	if err != nil {
		return nil, fmt.Errorf("backup: recipients %s: %w", file, err)
	}
	return rs, nil
}

// Identities reads an age identity file ("AGE-SECRET-KEY-1…").
func Identities(file string) ([]age.Identity, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("backup: identity: %w", err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("backup: identity %s: %w", file, err)
	}
	return ids, nil
}

// PassphraseRecipient encrypts to the passphrase in file (scrypt), which
// must be the owner's alone and at least MinPassphrase characters.
func PassphraseRecipient(file string) (age.Recipient, error) {
	p, err := readPassphrase(file)
	if err != nil {
		return nil, err
	}
	if n := len([]rune(p)); n < MinPassphrase {
		return nil, fmt.Errorf("backup: the passphrase in %s has %d characters; a backup needs at least %d", file, n, MinPassphrase)
	}
	return age.NewScryptRecipient(p)
}

// PassphraseIdentity decrypts with the passphrase in file.
func PassphraseIdentity(file string) (age.Identity, error) {
	p, err := readPassphrase(file)
	if err != nil {
		return nil, err
	}
	return age.NewScryptIdentity(p)
}

// readPassphrase reads file's first line; a file others may read is
// refused, as the metrics token is.
func readPassphrase(file string) (string, error) {
	fi, err := os.Stat(file)
	if err != nil {
		return "", fmt.Errorf("backup: passphrase: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("backup: passphrase file %s is mode %#o; make it readable by its owner only (chmod 600)", file, fi.Mode().Perm())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("backup: passphrase: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return "", fmt.Errorf("backup: passphrase file %s is empty", file)
	}
	return line, nil
}
