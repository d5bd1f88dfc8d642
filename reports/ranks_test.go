package reports

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSortedRanks(t *testing.T) {
	for _, tc := range []struct{ in, want []float64 }{
		{nil, []float64{}},
		{[]float64{7}, []float64{1}},
		{[]float64{1, 2, 3}, []float64{1, 2, 3}},
		{[]float64{30, 30, 30, 60}, []float64{2, 2, 2, 4}}, // three ties share (1+2+3)/3
		{[]float64{1, 2, 2, 3, 3, 3}, []float64{1, 2.5, 2.5, 5, 5, 5}},
	} {
		if diff := cmp.Diff(tc.want, sortedRanks(tc.in)); diff != "" {
			t.Errorf("sortedRanks(%v) (-want +got):\n%s", tc.in, diff)
		}
	}
}
