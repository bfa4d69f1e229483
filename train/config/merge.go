package config

// Merge deep-merges hi into lo in place and returns lo (docs/fob-behaviour.md §1.1, merge_dicts_hierarchical):
// where both values are maps it recurses; otherwise hi's value replaces lo's whole, so lists
// are not merged and a scalar, list or null replaces a map. Keys only in lo are kept. Values
// taken from hi are copied, so lo never aliases hi.
func Merge(lo, hi Map) Map {
	for k, hv := range hi {
		if hm, ok := hv.(Map); ok {
			if lm, ok := lo[k].(Map); ok {
				Merge(lm, hm)
				continue
			}
		}
		lo[k] = Clone(hv)
	}
	return lo
}
