package portal

import (
	"fmt"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/outer/pkgstore"
	"sealgate/shared/accountui"
	"sealgate/shared/i18n"
)

// catalogPage is the catalog's data: the rows and the query that chose them.
type catalogPage struct {
	Packages []packageView
	Search   string
	Sort     string
	Sorts    []string
}

// packageList is an officer's catalog: the packages addressed to them
// whose window has begun, searched and sorted on the server (GET
// parameters q and sort), destroyed ones shown as such.
func (p *Portal) packageList(c echo.Context) error {
	q := pkgstore.Query{Search: strings.TrimSpace(c.QueryParam("q")), Sort: c.QueryParam("sort")}
	if len(q.Search) > 200 {
		q.Search = q.Search[:200]
	}
	if q.Sort != pkgstore.ByFootage && q.Sort != pkgstore.ByDaysLeft {
		q.Sort = pkgstore.ByArrival
	}
	now := p.now()
	ps, err := p.cfg.Store.Catalog(c.Request().Context(), accountui.Session(c).User.Username, q, now)
	if err != nil {
		return err
	}
	page := catalogPage{Search: q.Search, Sort: q.Sort, Sorts: []string{pkgstore.ByArrival, pkgstore.ByFootage, pkgstore.ByDaysLeft}}
	for i := range ps {
		page.Packages = append(page.Packages, p.view(&ps[i], now))
	}
	return p.ui.Render(c, accountui.View{Name: "packages", Title: "packages.title", Data: page})
}

// packageView is one package as the pages show it: times as values (the
// layout's time function takes no pointers), what is left of its window,
// and what its signature was checked against.
type packageView struct {
	pkgstore.Package
	Gone                  bool
	DaysLeft              int // whole days, rounded up; -1: no end
	SizeText              string
	From, To, Until, When time.Time
	ViewFrom              time.Time
	ReasonKey             string // i18n key of the reason code, "" if none
	// PinnedBy is the paired inner appliance whose pinned key has the
	// signer's id: the receiver verified the signature against it.
	PinnedBy    string
	SignerShort string // the signer's id cut for a table
	// Revoked and Why: the package was revoked by an admin, for Why; else
	// (Gone) its viewing period ended at Until.
	Revoked bool
	Why     string
}

func (p *Portal) view(pk *pkgstore.Package, now time.Time) packageView {
	v := packageView{Package: *pk, Gone: pk.Gone(now), DaysLeft: -1, SizeText: sizeText(pk.Size), PinnedBy: p.pinnedPeer(pk.SignerKeyID),
		From: deref(pk.TimeFrom), To: deref(pk.TimeTo), Until: deref(pk.ExpiresAt), When: deref(pk.Destroyed), ViewFrom: deref(pk.ViewFrom)}
	if pk.ExpiresAt != nil {
		v.DaysLeft = max(0, int((pk.ExpiresAt.Sub(now)+24*time.Hour-1)/(24*time.Hour)))
	}
	if v.When.IsZero() && v.Gone {
		v.When = v.Until
	}
	v.SignerShort = pk.SignerKeyID
	if len(v.SignerShort) > len("sha256:")+16 {
		v.SignerShort = v.SignerShort[:len("sha256:")+16] + "…"
	}
	if pk.ReasonCode != "" && i18n.Has("reason."+pk.ReasonCode) {
		v.ReasonKey = "reason." + pk.ReasonCode
	}
	if why, ok := strings.CutPrefix(pk.DestroyedReason, "revoked: "); ok {
		v.Revoked, v.Why = true, why
	}
	return v
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// sizeText is n bytes in binary units, as download tools show them.
func sizeText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
