package portal

import (
	"github.com/labstack/echo/v4"

	"sealgate/shared/accountui"
	"sealgate/transfer/receive"
)

// storagePage is the store's use against its limits.
type storagePage struct {
	Used, Quota, Free, Reserve, Room int64 // Free -1: unknown; Quota 0: none
	UsedText, QuotaText, FreeText    string
	ReserveText, RoomText, StoreDir  string
	UsedPercent                      int // of the quota; -1 without one
	Recent                           []packageView
}

// recentArrivals is how many of the latest transfers the page lists.
const recentArrivals = 20

// adminStorageShow is the bytes the store holds against transfer.quota_gb
// and the disk's free space, with the reserve the receiver leaves free
// (transfer/receive.DiskReserve), and the latest transfers.
func (p *Portal) adminStorageShow(c echo.Context) error {
	page := storagePage{Quota: p.cfg.QuotaBytes, Free: -1, Reserve: receive.DiskReserve, UsedPercent: -1, StoreDir: p.cfg.StoreDir}
	if p.dir != nil {
		page.Used, page.Free = p.dir.Used(), p.dir.Free()
	}
	// Room is what the next arrivals may still take: the receiver refuses
	// one that would pass the quota or eat into the reserve.
	page.Room = -1
	if page.Free >= 0 {
		page.Room = max(0, page.Free-page.Reserve)
	}
	if page.Quota > 0 {
		page.UsedPercent = int(page.Used * 100 / page.Quota)
		if left := max(0, page.Quota-page.Used); page.Room < 0 || left < page.Room {
			page.Room = left
		}
	}
	page.UsedText, page.QuotaText, page.ReserveText = sizeText(page.Used), sizeText(page.Quota), sizeText(page.Reserve)
	if page.Free >= 0 {
		page.FreeText = sizeText(page.Free)
	}
	if page.Room >= 0 {
		page.RoomText = sizeText(page.Room)
	}
	ps, err := p.cfg.Store.Recent(c.Request().Context(), recentArrivals)
	if err != nil {
		return err
	}
	now := p.now()
	for i := range ps {
		page.Recent = append(page.Recent, p.view(&ps[i], now))
	}
	return p.ui.Render(c, accountui.View{Name: "admin_storage", Title: "admin_storage.title", Data: page})
}
