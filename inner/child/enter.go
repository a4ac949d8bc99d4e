package child

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Enter confines a child from the inside and must be its first act, before
// it opens any input: up to here it runs only our code. It applies the
// limits the daemon passed in Env (memory as RLIMIT_DATA, which counts what
// is mapped writable, not the address space the Go runtime reserves far
// beyond its use; processor time as RLIMIT_CPU, whose hard limit is
// SIGKILL), forbids core dumps, and makes the process non-dumpable, so
// another child running as the same user can neither trace it nor open
// the descriptors the daemon handed it through /proc. A process that is
// not a child is left alone.
func Enter() error {
	v := os.Getenv(Env)
	if v == "" {
		return nil
	}
	var data, cpu uint64
	for f := range strings.SplitSeq(v, ",") {
		k, n, _ := strings.Cut(f, "=")
		x, err := strconv.ParseUint(n, 10, 64)
		switch {
		case k == "1" && n == "": // a child of a daemon without limits (older tests)
			continue
		case err != nil:
			return fmt.Errorf("child: %s=%q: %w", Env, v, err)
		case k == "data":
			data = x
		case k == "cpu":
			cpu = x
		}
	}
	set := func(res int, max uint64) error {
		if err := unix.Setrlimit(res, &unix.Rlimit{Cur: max, Max: max}); err != nil {
			return fmt.Errorf("child: setrlimit %d to %d: %w", res, max, err)
		}
		return nil
	}
	if err := set(unix.RLIMIT_CORE, 0); err != nil {
		return err
	}
	if data > 0 {
		if err := set(unix.RLIMIT_DATA, data*raceShadow); err != nil {
			return err
		}
	}
	if cpu > 0 {
		if err := set(unix.RLIMIT_CPU, cpu); err != nil {
			return err
		}
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("child: not dumpable: %w", err)
	}
	return nil
}

// MustEnter is [Enter] for a main function: a child it cannot confine
// stops before it reads anything.
func MustEnter() {
	if err := Enter(); err != nil {
		fmt.Fprintln(os.Stderr, "sealgate-inner:", err)
		os.Exit(2)
	}
}
