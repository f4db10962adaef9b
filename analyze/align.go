package analyze

// maxAlignCells bounds the LCS table; past it the middle of the two histories is paired by
// position, which is what a rebuilt-from-scratch image needs anyway.
const maxAlignCells = 4 << 20

// align pairs each head entry with the base entry the same instruction made, or -1 when the head
// step is new. Equal keys are matched by a longest common subsequence; within the gaps between
// matches, entries of the same kind are paired in order as edits of one another.
func align(head, base []entry) []int {
	pairs := make([]int, len(head))
	for i := range pairs {
		pairs[i] = -1
	}
	// Common prefix and suffix first: histories share most of their entries.
	lo := 0
	for lo < len(head) && lo < len(base) && head[lo].in.Key() == base[lo].in.Key() {
		pairs[lo] = lo
		lo++
	}
	hi, bhi := len(head), len(base)
	for hi > lo && bhi > lo && head[hi-1].in.Key() == base[bhi-1].in.Key() {
		hi--
		bhi--
		pairs[hi] = bhi
	}
	h, b := head[lo:hi], base[lo:bhi]
	var matches [][2]int
	if len(h)*len(b) <= maxAlignCells {
		matches = lcs(h, b)
	}
	prevH, prevB := 0, 0
	for _, m := range append(matches, [2]int{len(h), len(b)}) {
		pairGap(pairs, lo, h, b, prevH, m[0], prevB, m[1])
		if m[0] < len(h) {
			pairs[lo+m[0]] = lo + m[1]
		}
		prevH, prevB = m[0]+1, m[1]+1
	}
	return pairs
}

// pairGap pairs head[h0:h1] with base[b0:b1] by kind, in order, as edits of one another; the
// indexes are relative to lo in both histories.
func pairGap(pairs []int, lo int, h, b []entry, h0, h1, b0, b1 int) {
	j := b0
	for i := h0; i < h1 && j < b1; i++ {
		for k := j; k < b1; k++ {
			if h[i].in.Kind == b[k].in.Kind {
				pairs[lo+i] = lo + k
				j = k + 1
				break
			}
		}
	}
}

func lcs(h, b []entry) [][2]int {
	n, m := len(h), len(b)
	table := make([]int32, (n+1)*(m+1))
	at := func(i, j int) *int32 { return &table[i*(m+1)+j] }
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			switch {
			case h[i].in.Key() == b[j].in.Key():
				*at(i, j) = *at(i+1, j+1) + 1
			case *at(i+1, j) >= *at(i, j+1):
				*at(i, j) = *at(i+1, j)
			default:
				*at(i, j) = *at(i, j+1)
			}
		}
	}
	var out [][2]int
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case h[i].in.Key() == b[j].in.Key():
			out = append(out, [2]int{i, j})
			i++
			j++
		case *at(i+1, j) >= *at(i, j+1):
			i++
		default:
			j++
		}
	}
	return out
}
