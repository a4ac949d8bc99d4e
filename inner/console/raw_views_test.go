package console

import "testing"

func TestRangesOfFrames(t *testing.T) {
	for _, c := range []struct {
		in   []int
		want string
	}{
		{[]int{5}, "5"},
		{[]int{3, 1, 2, 2, 0, 12, 40, 41, 51}, "0-3, 12, 40-41, 51"},
		{nil, ""},
	} {
		if got := ranges(c.in); got != c.want {
			t.Errorf("ranges(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
