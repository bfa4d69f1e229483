// Package executors gives GoMLX's pure-Go backend (simplego) faster float32 executors for the
// ops that dominate fob's convolutional and normalised models besides the products themselves
// (those are runtime/gemm's): elementwise binary ops with broadcasting, comparisons,
// BroadcastInDim, reductions, bool-to-float conversion, gathers that take slices along one axis
// (kernel reversal, embedding lookups) and concatenation.
//
// simplego walks broadcast operands and reduction outputs one element at a time through an
// index iterator, on one goroutine. Here the axes of each op are first merged into groups that
// behave alike (an operand spans the group or is broadcast along it), so the work becomes runs
// along the innermost group, each a vector loop or a fill; large outputs are split into fixed
// chunks over the cores. Elementwise results are bit-identical to simplego's; reductions add in
// float64 per chunk and combine the chunks in order (the same result on any number of cores).
//
// Install swaps the executors into simplego's table (process-wide), after checking the
// internals it reads; cases it does not take (other dtypes, unusual layouts) go to simplego's
// own executor. StartProfile/WriteProfile time every node by op and shapes (FOB_OPSTATS=1 in
// the ResNet-18 benchmark), the tool that found what to speed up.
package executors
