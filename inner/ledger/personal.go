package ledger

import (
	"fmt"
	"strconv"

	"sealgate/inner/requester"
	"sealgate/shared/account"
)

// WithPII gives the ledger the key that opens the requesters' names and
// phones (inner/requester) and finds a requester by name; the export
// ledger's records need it, the copies' rows do not.
func (l *Ledger) WithPII(p *account.PII) *Ledger {
	l.pii = p
	return l
}

// openRequester decrypts a record's sealed name and phone.
func (l *Ledger) openRequester(r *Record, name, phone []byte) error {
	var err error
	r.RequesterName, r.Phone, err = requester.Open(l.pii, r.ExportID, name, phone)
	return err
}

// requesterCond is the requester filter: the name is sealed, so it is
// matched exactly through its blind index (case and spacing folded); the
// document number, in clear, still by any part of it.
func requesterCond(pii *account.PII, f *Filter, args []any) (string, []any, error) {
	if f.DocumentOnly {
		args = append(args, f.Requester)
		return "strpos(lower(e.document_no), lower($" + strconv.Itoa(len(args)) + ")) > 0", args, nil
	}
	term := f.Requester
	if pii == nil {
		return "", nil, fmt.Errorf("%w: the requester filter: %w", ErrFilter, requester.ErrNoKey)
	}
	args = append(args, requester.Index(pii, term), term)
	n := len(args)
	return "(e.requester_name_index = $" + strconv.Itoa(n-1) + " OR strpos(lower(e.document_no), lower($" + strconv.Itoa(n) + ")) > 0)", args, nil
}
