package export_test

import (
	"context"
	"strings"
	"testing"
)

// A filed request's name and phone are stored sealed: neither the export
// row nor the audit chain holds them in clear, yet Show opens them.
func TestRequesterIsSealedAtRest(t *testing.T) {
	ctx := context.Background()
	fx := newWorkflow(t)
	r := request(fx.footage(t))
	r.Phone = "010-9876-5432"
	id, err := fx.wf.File(ctx, operator, r)
	if err != nil {
		t.Fatal(err)
	}
	var row, sealedName, sealedPhone string
	var index []byte
	if err := fx.pool.QueryRow(ctx, `SELECT e::text, encode(requester_name_sealed, 'escape'), encode(requester_phone_sealed, 'escape'), requester_name_index
		FROM export e WHERE id = $1`, id).Scan(&row, &sealedName, &sealedPhone, &index); err != nil {
		t.Fatal(err)
	}
	for _, clear := range []string{"김민수", "010-9876-5432"} {
		for what, stored := range map[string]string{"the export row": row, "the sealed name": sealedName, "the sealed phone": sealedPhone} {
			if strings.Contains(stored, clear) {
				t.Errorf("%s holds %q in clear: %s", what, clear, stored)
			}
		}
	}
	if len(index) != 32 {
		t.Errorf("blind index of %d bytes", len(index))
	}
	var audited string
	if err := fx.pool.QueryRow(ctx, `SELECT string_agg(detail || ' ' || target, ' | ') FROM audit_log`).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(audited, "김민수") || strings.Contains(audited, "010-9876") || !strings.Contains(audited, "강남-2026-1123") {
		t.Errorf("the audit chain names the requester, or not the document: %s", audited)
	}
	e, err := fx.wf.Show(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if e.RequesterName != "경위 김민수" || e.Phone != "010-9876-5432" {
		t.Errorf("opened %q, %q", e.RequesterName, e.Phone)
	}
}

// A sealed value is bound to its export's row and its column: copied to
// another export, or into the other column, it does not open, and the
// read says which export and which value.
func TestSealedRequesterDoesNotMove(t *testing.T) {
	ctx := context.Background()
	fx := newWorkflow(t)
	f := fx.footage(t)
	r := request(f)
	r.Phone = "010-1111-2222"
	a, err := fx.wf.File(ctx, operator, r)
	if err != nil {
		t.Fatal(err)
	}
	r.RequesterName, r.DocumentNo = "경사 이영희", "강남-2026-1124"
	b, err := fx.wf.File(ctx, operator, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fx.pool.Exec(ctx, `UPDATE export SET requester_name_sealed = (SELECT requester_name_sealed FROM export WHERE id = $1) WHERE id = $2`, a, b); err != nil {
		t.Fatal(err)
	}
	_, err = fx.wf.Show(ctx, b)
	if err == nil || !strings.Contains(err.Error(), "does not decrypt") || !strings.Contains(err.Error(), "name of export") {
		t.Fatalf("a name copied from export %d to %d: %v", a, b, err)
	}
	if _, err := fx.wf.List(ctx, "", 10); err == nil {
		t.Error("the list read a moved name")
	}
	// Into the phone column of its own row.
	if _, err := fx.pool.Exec(ctx, `UPDATE export SET requester_phone_sealed = requester_name_sealed WHERE id = $1`, a); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.wf.Show(ctx, a); err == nil || !strings.Contains(err.Error(), "phone of export") {
		t.Fatalf("a name moved into the phone column: %v", err)
	}
}
