package plan_test

import (
	"reflect"
	"testing"

	"sealgate/inner/mask/plan"
)

// FuzzEdits: any sequence of edits, each on a clone of the plan so far,
// leaves a plan that validates after every edit that succeeds, changes
// nothing when one is refused, and never touches the plan cloned from.
// Each edit is 7 bytes: the action, the track, then frame, x, y, w, h.
func FuzzEdits(f *testing.F) {
	f.Add([]byte{0, 2, 15, 0, 0, 64, 64})                                       // set a box
	f.Add([]byte{1, 2, 12, 0, 0, 64, 64, 4, 2, 14, 0, 0, 0, 5, 2, 13, 0, 0, 0}) // re-track, cut
	f.Add([]byte{2, 0, 40, 9, 9, 30, 30, 3, 1, 0, 0, 0, 0, 6, 5, 0, 0, 0, 0})   // add, exclude, delete
	f.Add([]byte{3, 2, 1, 0, 0, 0, 0, 7, 4, 0, 0, 0, 0, 8, 2, 0, 250, 0, 4})
	f.Fuzz(func(t *testing.T, ops []byte) {
		p := fixture()
		for ; len(ops) >= 7; ops = ops[7:] {
			op, id := ops[0]%9, int(ops[1]%8)
			b := plan.Box{F: int(ops[2]) - 10, X: int(ops[3]) * 5, Y: int(ops[4]) * 3, W: int(ops[5]) * 2, H: int(ops[6]) * 2, By: plan.ByManual}
			before := p.Clone()
			q := p.Clone()
			var err error
			switch op {
			case 0:
				_, err = q.SetBox(id, b)
			case 1:
				tail := []plan.Box{b}
				for i := 1; i <= int(ops[6]%20); i++ {
					c := b
					c.F, c.X, c.By = b.F+i, b.X+i, plan.ByTracker
					tail = append(tail, c)
				}
				_, err = q.Retrack(id, b, tail)
			case 2:
				_, err = q.AddManual([]plan.Box{b, {F: b.F + 1, X: b.X, Y: b.Y, W: b.W, H: b.H, By: plan.ByTracker}})
			case 3:
				err = q.Exclude(id, []string{plan.ReasonSubject, plan.ReasonNotSensitive, "x"}[ops[2]%3])
			case 4:
				err = q.CutBefore(id, b.F)
			case 5:
				err = q.CutAfter(id, b.F)
			case 6:
				err = q.Delete(id)
			case 7:
				err = q.Include(id)
			case 8:
				err = q.CheckBox(id, b)
			}
			if !reflect.DeepEqual(p, before) {
				t.Fatalf("edit %d changed the plan it was cloned from", op)
			}
			if err != nil {
				if !reflect.DeepEqual(q, before) {
					t.Fatalf("refused edit %d (%v) changed the draft", op, err)
				}
				continue
			}
			if err := q.Validate(); err != nil {
				t.Fatalf("edit %d left an invalid plan: %v", op, err)
			}
			p = q
			p.BoxesAt(b.F)
			p.BoxesIn(b.F, b.F+10)
		}
	})
}
