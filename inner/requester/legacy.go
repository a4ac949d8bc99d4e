package requester

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/shared/account"
)

// legacyBatch is how many rows one transaction of SealLegacy seals.
const legacyBatch = 2000

// LedgerLabel is what a marked copy's ledger row (and its audit entry)
// names as its requester: the export's code and the agency, which lead to
// the export's record without putting the officer's name in clear.
func LedgerLabel(code, agency string) string { return code + ", " + agency }

// Code is an export's code, as printed on the hand-over slip.
func Code(id int64, requestedAt time.Time) string {
	return fmt.Sprintf("EX-%d-%06d", requestedAt.Year(), id)
}

// SealLegacy seals the requesters of exports filed before inner migration
// 0010, which moved their plaintext to export_requester_legacy (SQL holds
// no key), and deletes that plaintext. The copies' ledger rows the
// pipeline made for those exports, which named the officer, are relabelled
// with LedgerLabel. It runs at every start before exports are read; once
// the table is empty it costs one query. Batches lock their rows (SKIP
// LOCKED), so nodes sharing the database may run it together.
func SealLegacy(ctx context.Context, pool *pgxpool.Pool, p *account.PII) (int, error) {
	if p == nil {
		return 0, ErrNoKey
	}
	total := 0
	for {
		n, err := sealBatch(ctx, pool, p)
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, nil
		}
		total += n
	}
}

func sealBatch(ctx context.Context, pool *pgxpool.Pool, p *account.PII) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT l.export_id, l.name, l.phone, e.requested_at, e.requester_agency, e.reason_code, e.detail, e.document_no
			FROM export_requester_legacy l JOIN export e ON e.id = l.export_id
			ORDER BY l.export_id LIMIT $1 FOR UPDATE OF l SKIP LOCKED`, legacyBatch)
		if err != nil {
			return err
		}
		var (
			ids                          []int64
			names, phones, indexes       [][]byte
			oldLabels, labels, ledgerWhy []string
		)
		for rows.Next() {
			var (
				id                                       int64
				name, phone, agency, code, detail, docNo string
				at                                       time.Time
			)
			if err := rows.Scan(&id, &name, &phone, &at, &agency, &code, &detail, &docNo); err != nil {
				rows.Close()
				return err
			}
			s, err := Seal(p, id, name, phone)
			if err != nil {
				rows.Close()
				return err
			}
			ids, names, phones, indexes = append(ids, id), append(names, s.Name), append(phones, s.Phone), append(indexes, s.NameIndex)
			// As the pipeline named the copy before (inner/pipeline, render).
			oldLabels = append(oldLabels, name+", "+agency)
			labels = append(labels, LedgerLabel(Code(id, at), agency))
			ledgerWhy = append(ledgerWhy, LedgerReason(code, detail, docNo))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if n = len(ids); n == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE export e SET requester_name_sealed = u.name, requester_phone_sealed = u.phone, requester_name_index = u.idx
			FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bytea[]) u(id, name, phone, idx) WHERE e.id = u.id`,
			ids, names, phones, indexes); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE ledger l SET requester = u.label
			FROM unnest($1::text[], $2::text[], $3::text[]) u(old, why, label) WHERE l.requester = u.old AND l.reason = u.why`,
			oldLabels, ledgerWhy, labels); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM export_requester_legacy WHERE export_id = ANY($1)`, ids)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("requester: seal the requesters filed before encryption: %w", err)
	}
	return n, nil
}

// LedgerReason is what a marked copy's ledger row records as its reason.
func LedgerReason(reasonCode, detail, documentNo string) string {
	reason := fmt.Sprintf("%s: %s (document %s)", reasonCode, detail, documentNo)
	if r := []rune(reason); len(r) > 500 {
		reason = string(r[:500])
	}
	return strings.TrimSpace(reason) // as the ledger keeps it
}
