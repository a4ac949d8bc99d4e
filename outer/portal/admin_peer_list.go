package portal

import (
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/outer/pkgstore"
	"sealgate/shared/accountui"
	"sealgate/shared/config"
)

// peerRow is one inner appliance on the peers page: paired (from the
// configuration) or only named by packages the store holds.
type peerRow struct {
	peer
	Paired      bool
	Stats       pkgstore.PeerStats
	HeldText    string
	LastArrival time.Time
}

type peersPage struct {
	Peers    []peerRow
	Arriving []arrivalRow
}

type arrivalRow struct {
	pkgstore.Arrival
	SizeText string
}

// adminPeerList is the paired inner appliances with their fingerprints,
// their last contact (the latest arrival from each) and what the store
// holds of theirs, and the packages arriving now.
func (p *Portal) adminPeerList(c echo.Context) error {
	stats, err := p.cfg.Store.Peers(c.Request().Context())
	if err != nil {
		return err
	}
	byName := map[string]pkgstore.PeerStats{}
	for _, s := range stats {
		byName[s.Peer] = s
	}
	var page peersPage
	for _, pr := range p.peers {
		s := byName[pr.Name]
		s.Peer = pr.Name
		delete(byName, pr.Name)
		page.Peers = append(page.Peers, peerRow{peer: pr, Paired: true, Stats: s, HeldText: sizeText(s.HeldBytes), LastArrival: s.LastArrival})
	}
	for _, s := range stats { // in name order, after the paired ones
		if _, left := byName[s.Peer]; left {
			page.Peers = append(page.Peers, peerRow{peer: peer{Peer: config.Peer{Name: s.Peer}}, Stats: s, HeldText: sizeText(s.HeldBytes), LastArrival: s.LastArrival})
		}
	}
	if p.dir != nil {
		as, err := p.dir.Arriving()
		if err != nil {
			return err
		}
		for _, a := range as {
			page.Arriving = append(page.Arriving, arrivalRow{Arrival: a, SizeText: sizeText(a.Size)})
		}
	}
	return p.ui.Render(c, accountui.View{Name: "admin_peers", Title: "admin_peers.title", Data: page})
}
