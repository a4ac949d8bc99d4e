package accountui

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"sealgate/shared/account"
)

// Sign-in rate limits: each client address and each account may make
// StepsPerMinute sign-in steps a minute (a burst of as many), counted
// together across POST /login, /password, /totp and /totp/enroll. They come
// on top of the per-account lockout: the address limit slows guessing
// across many accounts, which the lockout alone would not; the account
// limit slows many addresses on one account, and bounds the Argon2 work
// spent on it.
const (
	StepsPerMinute = 10
	limitMemory    = 10 * time.Minute // an idle address or account is forgotten after this
)

// signInLimits holds the two budgets every sign-in step draws on.
type signInLimits struct {
	byAddr, byAccount *budget
	log               *slog.Logger
	metrics           *signInMetrics
}

func newSignInLimits(log *slog.Logger, m *signInMetrics) *signInLimits {
	return &signInLimits{byAddr: newBudget(), byAccount: newBudget(), log: log, metrics: m}
}

// wrap runs h only if the client's address and the account named by
// accountOf both have a step left; else 429. The address is drawn on first,
// so an address that is out cannot drain an account's budget.
func (l *signInLimits) wrap(h echo.HandlerFunc, accountOf func(echo.Context) string) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !l.byAddr.allow(c.RealIP()) {
			return l.deny(c, "address")
		}
		if !l.byAccount.allow(accountOf(c)) {
			return l.deny(c, "account")
		}
		return h(c)
	}
}

func (l *signInLimits) deny(c echo.Context, by string) error {
	l.metrics.count(signInLimited)
	l.log.Warn("sign-in step rate limited", slog.String("by", by), slog.String("path", c.Path()), slog.String("remote", c.RealIP()))
	return echo.NewHTTPError(http.StatusTooManyRequests, "login.rate")
}

// budget is a token bucket per key. Echo's memory store would do, but its
// clock cannot be stopped, and a test under -race on a busy machine needs
// the buckets not to refill while it counts.
type budget struct {
	mu    sync.Mutex
	keys  map[string]*bucket
	now   func() time.Time
	swept time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newBudget() *budget { return &budget{keys: map[string]*bucket{}, now: time.Now} }

func (b *budget) allow(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if now.Sub(b.swept) > limitMemory {
		for k, e := range b.keys {
			if now.Sub(e.seen) > limitMemory {
				delete(b.keys, k)
			}
		}
		b.swept = now
	}
	e := b.keys[key]
	if e == nil {
		e = &bucket{lim: rate.NewLimiter(rate.Limit(StepsPerMinute/60.0), StepsPerMinute)}
		b.keys[key] = e
	}
	e.seen = now
	return e.lim.AllowN(now, 1)
}

// typedAccount is the account a sign-in form names, cleaned as Login cleans
// it, so a long or odd name costs no more memory than a real one.
func typedAccount(c echo.Context) string { return account.CleanUsername(c.FormValue("username")) }

// sessionAccount is the account of the session taking a step; guard has
// made sure there is one.
func sessionAccount(c echo.Context) string { return Session(c).User.Username }
