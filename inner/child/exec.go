package child

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
)

// ExecCommand is the child command that becomes another program once
// confined: `sealgate-inner exec-child ffmpeg args…` applies the limits
// ([Enter]) and then executes ffmpeg in the same process, which keeps
// them, the user, the network namespace and the job's descriptors.
const ExecCommand = "exec-child"

// programs are what ExecCommand may become.
var programs = []string{"ffmpeg", "ffprobe"}

// ExecMain is ExecCommand's side in the child: args are the program and
// its arguments. It returns only when the program cannot be started.
func ExecMain(args []string) error {
	if os.Getenv(Env) == "" {
		return fmt.Errorf("child: %s runs only as a child of the daemon", ExecCommand)
	}
	if err := Enter(); err != nil { // already done by a main that calls Enter first; cheap to repeat
		return err
	}
	if len(args) == 0 || !slices.Contains(programs, args[0]) {
		return fmt.Errorf("child: %s: %q is not one of %v", ExecCommand, args, programs)
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		return fmt.Errorf("child: %w", err)
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return len(kv) > len(Env) && kv[:len(Env)+1] == Env+"=" })
	return fmt.Errorf("child: exec %s: %w", path, syscall.Exec(path, args, env))
}
