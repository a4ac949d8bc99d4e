package daemontest

import (
	"fmt"
	"net/http"
	"os"
	"testing"

	"go.uber.org/goleak"

	"sealgate/shared/pgdb/pgtest"
)

// Main runs a daemon package's tests (with the test harness's PostgreSQL)
// and then fails the run if any goroutine is left: every background part of
// a daemon is a component that its shutdown waits for, so one still running
// after the tests is a part the daemon would leave behind at every stop
// (docs/architecture.md, "Lifecycle").
func Main(m *testing.M) int {
	code := pgtest.Main(m)
	if code != 0 {
		return code
	}
	http.DefaultClient.CloseIdleConnections()
	if err := goleak.Find(); err != nil {
		fmt.Fprintln(os.Stderr, "daemontest: goroutines left after the tests:", err)
		return 1
	}
	return 0
}
