package console

import (
	"errors"
	"strconv"

	"github.com/labstack/echo/v4"

	"sealgate/inner/export"
	"sealgate/inner/ledger"
	"sealgate/inner/watermark"
	"sealgate/shared/accountui"
)

type ledgerShowView struct {
	Record *ledger.Record
	Export *export.Export
	Copy   *ledger.Entry // the marked copy the export delivered, once rendered
}

// ledgerShow is one export's ledger record: its whole history, the hashes
// of the original, the marked copy and the package, what the masking did,
// the watermark and the outer's receipts.
func (c *Console) ledgerShow(e echo.Context) error {
	id, err := strconv.ParseInt(e.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.ErrNotFound
	}
	ctx := e.Request().Context()
	v := ledgerShowView{}
	if v.Record, err = c.ledger.Record(ctx, id); errors.Is(err, ledger.ErrNotFound) {
		return echo.ErrNotFound
	} else if err != nil {
		return err
	}
	if v.Export, err = c.workflow.Show(ctx, id); err != nil {
		return workflowError(err)
	}
	shownRecord(e, v.Record)
	shownExport(e, v.Export)
	if v.Record.Payload != "" {
		p, err := watermark.ParsePayload(v.Record.Payload)
		if err != nil {
			return err
		}
		if v.Copy, err = c.ledger.Lookup(ctx, p); err != nil {
			return err
		}
	}
	return c.ui.Render(e, accountui.View{Name: "ledger_show", Title: "ledger.show_title", Data: v})
}
