package web

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/labstack/echo/v4"
)

// Check is one readiness condition; nil means ready.
type Check func(ctx context.Context) error

// Health serves GET /healthz (the process answers) and GET /readyz (every
// check passes: database reachable, schema current, keys loaded…). /readyz
// answers 503 with the failing checks named, so a load balancer or an
// operator sees why.
func Health(e *echo.Echo, checks map[string]Check) {
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
		defer cancel()
		names := make([]string, 0, len(checks))
		for n := range checks {
			names = append(names, n)
		}
		sort.Strings(names)
		status, result := http.StatusOK, map[string]string{}
		for _, n := range names {
			if err := checks[n](ctx); err != nil {
				status, result[n] = http.StatusServiceUnavailable, err.Error()
			} else {
				result[n] = "ok"
			}
		}
		return c.JSON(status, map[string]any{"ready": status == http.StatusOK, "checks": result})
	})
}
