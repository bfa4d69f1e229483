package gemm

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/fob-go/fob/internal/parallel"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// simplego picks its convolution function from these tables by dtype (unexported there): the
// general one (dilations, groups) and the one without. Both have the type
// func(convGeneralExecPlan) error, with the plan an unexported struct.
//
//go:linkname convMap github.com/gomlx/gomlx/backends/simplego.convDTypeMap
var convMap *simplego.DTypeMap

//go:linkname convNoDilationMap github.com/gomlx/gomlx/backends/simplego.convNoDilationDTypeMap
var convNoDilationMap *simplego.DTypeMap

var (
	convInstalled bool
	convEnabled   atomic.Bool
)

// InstallConv makes simplego's float32 ConvGeneral run as an implicit matrix product on the
// block kernel: kernel rows (output channels) against patch columns (batch × output positions),
// contracting input channels × kernel taps, with the input patches gathered straight into
// 32×32 blocks (no im2col tensor in memory) and the kernel copied into blocks once per call.
// Input dilation, kernel dilation, padding (negative too), channel groups and any axis layout
// are index arithmetic in the gather; depthwise convolutions (one channel per group) skip the
// product. Batch groups keep simplego's loop. Work is split over GOMAXPROCS goroutines of its
// own (no pool shared with the scheduler, so nothing to deadlock on).
func InstallConv() error {
	installMu.Lock()
	defer installMu.Unlock()
	if convInstalled {
		return nil
	}
	if !hasKernel {
		return ErrUnavailable
	}
	if convMap == nil || convNoDilationMap == nil {
		return errors.New("gemm: simplego's convolution tables are not linked")
	}
	stockFull, stockPlain := convMap.Map[dtypes.Float32], convNoDilationMap.Map[dtypes.Float32]
	if stockFull == nil || stockPlain == nil {
		return errors.New("gemm: simplego has no float32 convolution to replace")
	}
	ft := reflect.TypeOf(stockFull)
	if ft != reflect.TypeOf(stockPlain) || ft.Kind() != reflect.Func || ft.NumIn() != 1 || ft.NumOut() != 1 ||
		ft.In(0).Kind() != reflect.Struct || ft.Out(0) != reflect.TypeOf((*error)(nil)).Elem() {
		return fmt.Errorf("gemm: simplego's convolution function has type %s, not the one this package was written for", ft)
	}
	planType := ft.In(0)
	for name, kind := range map[string]reflect.Kind{"inputFlat": reflect.Interface, "kernelFlat": reflect.Interface,
		"outputFlat": reflect.Interface, "inputShape": reflect.Struct, "kernelShape": reflect.Struct,
		"outputShape": reflect.Struct, "params": reflect.Pointer} {
		if f, ok := planType.FieldByName(name); !ok || f.Type.Kind() != kind {
			return fmt.Errorf("gemm: simplego's convolution plan has no %s field of kind %s", name, kind)
		}
	}
	pf, _ := planType.FieldByName("params")
	for name, kind := range map[string]reflect.Kind{"axes": reflect.Struct, "strides": reflect.Slice, "paddings": reflect.Slice,
		"inputDilations": reflect.Slice, "kernelDilations": reflect.Slice, "channelGroupCount": reflect.Int, "batchGroupCount": reflect.Int} {
		if f, ok := pf.Type.Elem().FieldByName(name); !ok || f.Type.Kind() != kind {
			return fmt.Errorf("gemm: simplego's convolution parameters have no %s field of kind %s", name, kind)
		}
	}
	wrap := func(stock any) any {
		stockFn := reflect.ValueOf(stock)
		return reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
			if convEnabled.Load() {
				if c, ok := readPlan(args[0]); ok {
					c.run()
					return []reflect.Value{reflect.Zero(ft.Out(0))}
				}
			}
			return stockFn.Call(args)
		}).Interface()
	}
	convMap.Map[dtypes.Float32] = wrap(stockFull)
	convNoDilationMap.Map[dtypes.Float32] = wrap(stockPlain)
	convPlanType = planType
	convInstalled = true
	convEnabled.Store(true)
	return nil
}

// convPlanType is simplego's convolution plan struct (set by InstallConv).
var convPlanType reflect.Type

// RunConvNode computes a float32 ConvGeneral node into out when the kernels here take it:
// params is the node's data (simplego's convolution parameters), input, kernel and out its
// buffers. Every element of out is written, so out need not be zeroed (simplego's own executor
// zeroes the whole output first, single-threaded: a tenth of a ResNet-18 step). It reports
// false, with out untouched, for what it does not take.
func RunConvNode(params any, input, kernel, out *simplego.Buffer) (ok bool) {
	if !convEnabled.Load() || convPlanType == nil {
		return false
	}
	plan := reflect.New(convPlanType).Elem()
	defer func() {
		if r := recover(); r != nil {
			ok = false
		}
	}()
	set := func(name string, v any) {
		f := plan.FieldByName(name)
		reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Set(reflect.ValueOf(v))
	}
	for _, b := range []struct {
		buf         *simplego.Buffer
		flat, shape string
	}{{input, "inputFlat", "inputShape"}, {kernel, "kernelFlat", "kernelShape"}, {out, "outputFlat", "outputShape"}} {
		flat, ok1 := floats(b.buf)
		shape, ok2 := shapeOf(b.buf)
		if !ok1 || !ok2 {
			return false
		}
		set(b.flat, flat)
		set(b.shape, shape)
	}
	set("params", params)
	c, ok := readPlan(plan)
	if !ok {
		return false
	}
	c.run()
	return true
}

// chunksEnabled: SetMaskedGather.
var chunksEnabled atomic.Bool

func init() { chunksEnabled.Store(true) }

// SetMaskedGather switches the AVX-512 masked patch gathering (on by default where the CPU has
// AVX-512) off and on, so that tests run both gathering paths on such CPUs.
func SetMaskedGather(on bool) { chunksEnabled.Store(on) }

// ConvActive reports whether float32 convolutions run on the block kernel.
func ConvActive() bool {
	installMu.Lock()
	defer installMu.Unlock()
	return convInstalled && convEnabled.Load()
}

// SetConvEnabled switches between the block-kernel convolution and simplego's loop (tests,
// benchmarks); compiled graphs switch too.
func SetConvEnabled(on bool) { convEnabled.Store(on) }

// conv is one convolution in the terms of the matrix product.
type conv struct {
	x, w, out []float32
	k         int // spatial axes

	n, c, m, groups, cg, mg int
	xsN, xsC                int   // input strides of the batch and channel axes
	xsS, xDim               []int // input strides and sizes of the spatial axes
	inDil                   []int
	wsM, wsC                int
	wsS, kDim               []int
	osN, osM                int
	osS, oDim               []int
	stride, kDil, lo        []int

	rows, contract int // N × output positions, Cg × taps
	rowBlocks      int
	kBlocks        int
	colBlocks      int
}

// readPlan turns simplego's plan into a conv; ok is false for what the kernel does not take.
func readPlan(v reflect.Value) (c *conv, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			c, ok = nil, false
		}
	}()
	p := reflect.New(v.Type()).Elem()
	p.Set(v)
	get := func(s reflect.Value, name string) any {
		f := s.FieldByName(name)
		return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface()
	}
	x, ok1 := get(p, "inputFlat").([]float32)
	w, ok2 := get(p, "kernelFlat").([]float32)
	out, ok3 := get(p, "outputFlat").([]float32)
	if !ok1 || !ok2 || !ok3 {
		return nil, false
	}
	xs, ws, os := get(p, "inputShape").(shapes.Shape), get(p, "kernelShape").(shapes.Shape), get(p, "outputShape").(shapes.Shape)
	params := p.FieldByName("params").Elem()
	axes := get(params, "axes").(backends.ConvolveAxesConfig)
	if get(params, "batchGroupCount").(int) > 1 {
		return nil, false
	}
	c = &conv{x: x, w: w, out: out, k: len(axes.InputSpatial), groups: max(1, get(params, "channelGroupCount").(int))}
	c.stride = get(params, "strides").([]int)
	pads := get(params, "paddings").([][2]int)
	c.inDil = get(params, "inputDilations").([]int)
	c.kDil = get(params, "kernelDilations").([]int)
	ones := func(v []int) []int {
		if len(v) == c.k {
			return v
		}
		o := make([]int, c.k)
		for i := range o {
			o[i] = 1
		}
		return o
	}
	c.stride, c.inDil, c.kDil = ones(c.stride), ones(c.inDil), ones(c.kDil)
	xst, wst, ost := xs.Strides(), ws.Strides(), os.Strides()
	c.n, c.c = xs.Dimensions[axes.InputBatch], xs.Dimensions[axes.InputChannels]
	c.xsN, c.xsC = xst[axes.InputBatch], xst[axes.InputChannels]
	c.m, c.cg = ws.Dimensions[axes.KernelOutputChannels], ws.Dimensions[axes.KernelInputChannels]
	c.wsM, c.wsC = wst[axes.KernelOutputChannels], wst[axes.KernelInputChannels]
	c.osN, c.osM = ost[axes.OutputBatch], ost[axes.OutputChannels]
	c.mg = c.m / c.groups
	c.lo = make([]int, c.k)
	for i := range c.k {
		c.xsS = append(c.xsS, xst[axes.InputSpatial[i]])
		c.xDim = append(c.xDim, xs.Dimensions[axes.InputSpatial[i]])
		c.wsS = append(c.wsS, wst[axes.KernelSpatial[i]])
		c.kDim = append(c.kDim, ws.Dimensions[axes.KernelSpatial[i]])
		c.osS = append(c.osS, ost[axes.OutputSpatial[i]])
		c.oDim = append(c.oDim, os.Dimensions[axes.OutputSpatial[i]])
		if len(pads) == c.k {
			c.lo[i] = pads[i][0]
		}
	}
	if c.n != os.Dimensions[axes.OutputBatch] || c.cg*c.groups != c.c || c.mg*c.groups != c.m {
		return nil, false
	}
	c.blocks()
	return c, true
}

// blocks sets the product's sizes from the convolution's.
func (c *conv) blocks() {
	taps, positions := 1, 1
	for i := range c.k {
		taps *= c.kDim[i]
		positions *= c.oDim[i]
	}
	c.rows, c.contract = c.n*positions, c.cg*taps
	c.rowBlocks = (c.rows + Dim - 1) / Dim
	c.kBlocks = (c.contract + Dim - 1) / Dim
	c.colBlocks = (c.mg + Dim - 1) / Dim
}

func getF32(n int) []float32 { return f32Scratch.get(n) }
func putF32(s []float32)     { f32Scratch.put(s) }
func getInts(n int) []int    { return intScratch.get(n) }
func putInts(s []int)        { intScratch.put(s) }

// kChunk bounds the contraction blocks gathered at a time (256 KiB of patches per worker).
const kChunk = 64

// run computes the output, writing every element of it. The product is laid out so that
// both gathered and written data run along output positions: out[m][pos] += W[m][k] ·
// patches[k][pos], the kernel as the left blocks (transposed once) and the patches as the
// right ones, gathered with one contiguous run per output row.
func (c *conv) run() {
	if c.rows == 0 || c.mg == 0 || c.contract == 0 {
		clear(c.out) // nothing to add up (RunConvNode's output is not zeroed)
		return
	}
	if c.cg == 1 && c.mg == 1 && c.k == 2 && c.inDil[0] == 1 && c.inDil[1] == 1 {
		c.depthwise()
		return
	}
	if p := c.direct(); p != nil {
		c.runDirect(p)
		return
	}
	if c.directKernelGrad() {
		c.runKernelGrad()
		return
	}
	// Contiguous runs: along output positions normally; along the contraction when the kernel's
	// last axis is longer than the output's (kernel gradients: the "kernel" is the image). Then
	// the product runs transposed, patches as the left blocks [32 positions][32 k], so that each
	// run is one copy into a block row.
	alongK := c.k == 2 && c.inDil[0] == 1 && c.inDil[1] == 1 && c.kDim[1] > c.oDim[1]
	var kSegs [][]segment
	if alongK {
		kSegs = c.contractionSegments()
	}
	lhs := c.kernelBlocks(alongK) // the right blocks when alongK
	defer putF32(lhs)
	taps := c.contract / c.cg
	kOff := getInts(c.contract)       // channel part of the input offset
	kTap := getInts(c.contract * c.k) // tap × kernel dilation per spatial axis
	defer putInts(kOff)
	defer putInts(kTap)
	for kk := range c.contract {
		ch, t := kk/taps, kk%taps
		kOff[kk] = ch * c.xsC
		for i := c.k - 1; i >= 0; i-- {
			kTap[kk*c.k+i] = (t % c.kDim[i]) * c.kDil[i]
			t /= c.kDim[i]
		}
	}
	positions := c.rows / c.n
	rOff := getInts(c.rows)       // batch part of the input offset
	rPos := getInts(c.rows * c.k) // first input coordinate per spatial axis
	oOff := getInts(c.rows)       // output offset without the channel part
	defer putInts(rOff)
	defer putInts(rPos)
	defer putInts(oOff)
	for r := range c.rows {
		b, p := r/positions, r%positions
		rOff[r] = b * c.xsN
		oOff[r] = b * c.osN
		for i := c.k - 1; i >= 0; i-- {
			o := p % c.oDim[i]
			p /= c.oDim[i]
			rPos[r*c.k+i] = o*c.stride[i] - c.lo[i]
			oOff[r] += o * c.osS[i]
		}
	}
	// A task is a run of rows consecutive position blocks over a range of contraction blocks.
	// Several position blocks per task let each stretch of the kernel blocks (millions of
	// values for kernel gradients, whose "kernel" is the image) be read once from memory for
	// all of them, while their accumulators stay in L2 (at most 256 KiB). The contraction is
	// split too when that leaves fewer tasks than twice the workers (kernel gradients: few
	// outputs, a contraction over the whole batch).
	workers := runtime.GOMAXPROCS(0)
	rows := min(c.rowBlocks, max(1, 64/c.colBlocks))
	rowGroups := (c.rowBlocks + rows - 1) / rows
	splits := 1
	if c.groups*rowGroups < 2*workers {
		splits = min(c.kBlocks, (2*workers+c.groups*rowGroups-1)/(c.groups*rowGroups))
	}
	per := (c.kBlocks + splits - 1) / splits
	chunk := kChunk
	if rows > 1 {
		chunk = kChunk / 4 // the kernel blocks of a chunk stay in L2 across the position blocks
	}
	tasks := c.groups * rowGroups * splits
	var partial [][]float32
	if splits > 1 {
		partial = make([][]float32, tasks)
	}
	// Workers take groups of consecutive tasks (neighbouring output rows share input rows, which
	// then stay in the worker's cache), small enough to keep the load balanced.
	group := max(1, tasks/(workers*16))
	blockAcc := c.colBlocks * BlockSize
	var nextTask atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, tasks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			patches := getF32(chunk * BlockSize)
			var gc *chunks // the AVX-512 gathering, when the CPU has it
			if useAVX512 && chunksEnabled.Load() {
				m := chunk * Dim * 2
				gc = &chunks{dst: make([]uintptr, 0, m), src: make([]uintptr, 0, m), masks: make([]uint32, 0, m)}
			}
			acc := getF32(rows * blockAcc)
			defer putF32(patches)
			defer putF32(acc)
			segs := make([][]segment, rows)
			next, end := 0, 0
			for {
				if next == end { // take the next group of consecutive tasks
					grp := int(nextTask.Add(1) - 1)
					next, end = grp*group, min(tasks, (grp+1)*group)
					if next >= tasks {
						return
					}
				}
				task := next
				next++
				g, rest := task/(rowGroups*splits), task%(rowGroups*splits)
				rg, split := rest/splits, rest%splits
				rb0, rb1 := rg*rows, min(c.rowBlocks, (rg+1)*rows)
				clear(acc)
				if !alongK {
					for rb := rb0; rb < rb1; rb++ {
						segs[rb-rb0] = c.segments(segs[rb-rb0][:0], rb, positions, rOff, rPos)
					}
				}
				kb0, kb1 := split*per, min(c.kBlocks, (split+1)*per)
				for ch := kb0; ch < kb1; ch += chunk {
					n := min(chunk, kb1-ch)
					for rb := rb0; rb < rb1; rb++ {
						a := acc[(rb-rb0)*blockAcc : (rb-rb0+1)*blockAcc]
						if alongK {
							c.gatherAlongK(patches[:n*BlockSize], g, rb, ch, n, kOff, kTap, rOff, rPos, kSegs, gc)
							for jb := range c.colBlocks {
								o := a[jb*BlockSize : (jb+1)*BlockSize]
								for kb := range n {
									block32(o, patches[kb*BlockSize:(kb+1)*BlockSize], lhs[((g*c.kBlocks+ch+kb)*c.colBlocks+jb)*BlockSize:][:BlockSize])
								}
							}
							continue
						}
						c.gather(patches[:n*BlockSize], g, rb, ch, n, kOff, kTap, rOff, rPos, segs[rb-rb0], gc)
						for jb := range c.colBlocks {
							o := a[jb*BlockSize : (jb+1)*BlockSize]
							for kb := range n {
								block32(o, lhs[((g*c.colBlocks+jb)*c.kBlocks+ch+kb)*BlockSize:][:BlockSize], patches[kb*BlockSize:(kb+1)*BlockSize])
							}
						}
					}
				}
				if splits > 1 {
					partial[task] = append([]float32(nil), acc[:(rb1-rb0)*blockAcc]...)
					continue
				}
				for rb := rb0; rb < rb1; rb++ {
					c.write(acc[(rb-rb0)*blockAcc:(rb-rb0+1)*blockAcc], g, rb, oOff, alongK)
				}
			}
		}()
	}
	wg.Wait()
	if splits > 1 {
		sum := make([]float32, rows*blockAcc)
		for g := range c.groups {
			for rg := range rowGroups {
				rb0, rb1 := rg*rows, min(c.rowBlocks, (rg+1)*rows)
				part := sum[:(rb1-rb0)*blockAcc]
				clear(part)
				for s := range splits {
					for i, v := range partial[(g*rowGroups+rg)*splits+s] {
						part[i] += v
					}
				}
				for rb := rb0; rb < rb1; rb++ {
					c.write(part[(rb-rb0)*blockAcc:(rb-rb0+1)*blockAcc], g, rb, oOff, alongK)
				}
			}
		}
	}
}

// depthwise computes a depthwise 2-D convolution (one input and one output channel per group)
// directly: as a matrix product each group would fill one column of 32 in a block. Each
// (batch, channel) plane accumulates one shifted input row per tap, split over goroutines.
func (c *conv) depthwise() {
	h, w := c.xDim[0], c.xDim[1]
	o0, o1 := c.oDim[0], c.oDim[1]
	k0, k1 := c.kDim[0], c.kDim[1]
	planes := c.n * c.groups
	workers := min(runtime.GOMAXPROCS(0), planes)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			row := make([]float32, o1)
			for {
				pl := int(next.Add(1) - 1)
				if pl >= planes {
					return
				}
				b, ch := pl/c.groups, pl%c.groups
				xBase := b*c.xsN + ch*c.xsC
				oBase := b*c.osN + ch*c.osM
				for i := range o0 {
					clear(row)
					for t0 := range k0 {
						p0 := i*c.stride[0] + t0*c.kDil[0] - c.lo[0]
						if uint(p0) >= uint(h) {
							continue
						}
						xRow := xBase + p0*c.xsS[0]
						for t1 := range k1 {
							a := c.w[ch*c.wsM+t0*c.wsS[0]+t1*c.wsS[1]]
							q := t1*c.kDil[1] - c.lo[1] // input column of output 0
							step := c.stride[1]
							j0 := 0
							if q < 0 {
								j0 = min(o1, (-q+step-1)/step)
							}
							j1 := o1
							if q+(o1-1)*step >= w {
								j1 = max(j0, min(o1, (w-q+step-1)/step))
							}
							if step == 1 && c.xsS[1] == 1 {
								src := c.x[xRow+q+j0 : xRow+q+j1]
								dst := row[j0:j1]
								for j, v := range src {
									dst[j] += a * v
								}
							} else {
								for j := j0; j < j1; j++ {
									row[j] += a * c.x[xRow+(q+j*step)*c.xsS[1]]
								}
							}
						}
					}
					oRow := oBase + i*c.osS[0]
					for j, v := range row {
						c.out[oRow+j*c.osS[1]] = v
					}
				}
			}
		}()
	}
	wg.Wait()
}

// kernelBlocks lays the kernel out in 32×32 blocks: as the left blocks
// [group][colBlock][kBlock][32 m][32 k] of the product, or, transposed, as the right blocks
// [group][kBlock][colBlock][32 k][32 m] of the transposed product (kernel gradients, whose
// "kernel" is the image: millions of elements, hence the parallel tiles). Element (m, k) is
// kernel[g*Mg + m, k's channel, k's tap], zero past the edges.
func (c *conv) kernelBlocks(transposed bool) []float32 {
	out := getF32(c.groups * c.colBlocks * c.kBlocks * BlockSize)
	taps := c.contract / c.cg
	wOff := getInts(c.contract) // per contraction index (channel, taps): its offset in the kernel
	defer putInts(wOff)
	for kk := range c.contract {
		ch, t := kk/taps, kk%taps
		off := ch * c.wsC
		for i := c.k - 1; i >= 0; i-- {
			off += (t % c.kDim[i]) * c.wsS[i]
			t /= c.kDim[i]
		}
		wOff[kk] = off
	}
	parallel.For(c.groups*c.colBlocks*c.kBlocks, func(tile int) {
		g, rest := tile/(c.colBlocks*c.kBlocks), tile%(c.colBlocks*c.kBlocks)
		jb, kb := rest/c.kBlocks, rest%c.kBlocks
		mStride, kStride := Dim, 1 // element (m, k) of the block
		if transposed {
			kb, jb = rest/c.colBlocks, rest%c.colBlocks
			mStride, kStride = 1, Dim
		}
		blk := out[tile*BlockSize : (tile+1)*BlockSize]
		clear(blk)
		offs := wOff[kb*Dim : min(c.contract, (kb+1)*Dim)]
		for m := range min(Dim, c.mg-jb*Dim) {
			w := c.w[(g*c.mg+jb*Dim+m)*c.wsM:]
			for k, off := range offs {
				blk[m*mStride+k*kStride] = w[off]
			}
		}
	})
	return out
}

// segment is a run of output positions of one block that share everything but the last
// spatial coordinate (consecutive along it).
type segment struct {
	i0, n int // first position in the block, count
	r0    int // its row index
}

// segments splits position block rb into runs along the last spatial axis (2-D, undilated
// input only; otherwise none and gather goes element by element).
func (c *conv) segments(segs []segment, rb, positions int, rOff, rPos []int) []segment {
	if c.k != 2 || c.inDil[0] != 1 || c.inDil[1] != 1 {
		return segs
	}
	w := c.oDim[1]
	for i := 0; i < Dim; {
		r := rb*Dim + i
		if r >= c.rows {
			break
		}
		o2 := (r % positions) % w
		n := min(Dim-i, w-o2, c.rows-r)
		segs = append(segs, segment{i0: i, n: n, r0: r})
		i += n
	}
	return segs
}

// gather fills n patch blocks [32 k][32 positions] (position block rb, contraction blocks
// kb0..kb0+n-1 of group g) with the input values the products need: 0 in padding, between
// dilated input elements and past edges.
func (c *conv) gather(dst []float32, g, rb, kb0, n int, kOff, kTap, rOff, rPos []int, segs []segment, ch *chunks) {
	gOff := g * c.cg * c.xsC
	k := c.k
	if len(segs) == 0 || c.stride[1] != 1 || c.xsS[1] != 1 {
		ch = nil // masked copies need runs of consecutive input elements
	}
	for b := range n {
		blk := dst[b*BlockSize : (b+1)*BlockSize]
		for kk := range Dim {
			col := (kb0+b)*Dim + kk
			row := blk[kk*Dim : (kk+1)*Dim]
			if col >= c.contract {
				clear(row)
				continue
			}
			cOff := gOff + kOff[col]
			taps := kTap[col*k : col*k+k]
			if ch != nil {
				c.addRuns(ch, row, segs, cOff, taps[0], taps[1], rOff, rPos)
				continue
			}
			if len(segs) > 0 {
				c.gatherRuns(row, segs, cOff, taps[0], taps[1], rOff, rPos)
				continue
			}
			for i := range Dim {
				r := rb*Dim + i
				if r >= c.rows {
					row[i] = 0
					continue
				}
				off := rOff[r] + cOff
				pos := rPos[r*k : r*k+k]
				ok := true
				for a := range k {
					p := pos[a] + taps[a]
					d := c.inDil[a]
					if p < 0 || p%d != 0 || p/d >= c.xDim[a] {
						ok = false
						break
					}
					off += p / d * c.xsS[a]
				}
				if ok {
					row[i] = c.x[off]
				} else {
					row[i] = 0
				}
			}
		}
	}
	if ch != nil {
		ch.run()
		runtime.KeepAlive(dst)
		runtime.KeepAlive(c.x)
	}
}

// addRuns is gatherRuns as masked 16-lane copies added to ch (stride 1 along contiguous input
// rows): borders and rows outside the image become masks instead of branches and memmove calls.
func (c *conv) addRuns(ch *chunks, row []float32, segs []segment, cOff, t0, t1 int, rOff, rPos []int) {
	h, w, s0 := c.xDim[0], c.xDim[1], c.xsS[0]
	x := uintptr(unsafe.Pointer(unsafe.SliceData(c.x)))
	last := 0
	for _, sg := range segs {
		p0 := rPos[sg.r0*2] + t0
		q := rPos[sg.r0*2+1] + t1
		ch.addRun(&row[sg.i0], x, rOff[sg.r0]+cOff+p0*s0+q, q, sg.n, w, uint(p0) < uint(h))
		last = sg.i0 + sg.n
	}
	clear(row[last:])
}

// chunks collects 16-lane masked copies for gatherChunks.
type chunks struct {
	dst, src []uintptr
	masks    []uint32
}

// addRun adds the copy of a run of n floats to dst from the input row element at index at
// (column q of a row w long; columns outside [0, w), or the whole run when !inside, read as 0).
func (ch *chunks) addRun(dst *float32, x uintptr, at, q, n, w int, inside bool) {
	d := uintptr(unsafe.Pointer(dst))
	for c0 := 0; c0 < n; c0 += 16 {
		l := min(16, n-c0)
		store := uint32(1)<<l - 1
		load := uint32(0)
		if inside {
			lo, hi := max(0, -(q+c0)), min(l, w-(q+c0))
			if hi > lo {
				load = (uint32(1)<<hi - 1) &^ (uint32(1)<<lo - 1)
			}
		}
		ch.dst = append(ch.dst, d+uintptr(4*c0))
		ch.src = append(ch.src, x+uintptr(4*(at+c0))) // may point outside x where load masks it off
		ch.masks = append(ch.masks, store<<16|load)
	}
}

// run performs the collected copies and empties the list.
func (ch *chunks) run() {
	if len(ch.dst) > 0 {
		gatherChunks(&ch.dst[0], &ch.src[0], &ch.masks[0], len(ch.dst))
	}
	ch.dst, ch.src, ch.masks = ch.dst[:0], ch.src[:0], ch.masks[:0]
}

// gatherRuns is gather's 2-D undilated case: per segment, one input row read with the output
// stride (a plain copy at stride 1), zeros where it leaves the input.
func (c *conv) gatherRuns(row []float32, segs []segment, cOff, t0, t1 int, rOff, rPos []int) {
	h, w := c.xDim[0], c.xDim[1]
	s0, s1 := c.xsS[0], c.xsS[1]
	step := c.stride[1]
	last := 0
	for _, sg := range segs {
		out := row[sg.i0 : sg.i0+sg.n]
		last = sg.i0 + sg.n
		p0 := rPos[sg.r0*2] + t0
		if uint(p0) >= uint(h) {
			clear(out)
			continue
		}
		base := rOff[sg.r0] + cOff + p0*s0
		copyRow(out, c.x, base, rPos[sg.r0*2+1]+t1, step, s1, w) // from the first position's column
	}
	clear(row[last:])
}

// copyRow fills out[j] with the input element at column q + j*step of the row at base (s1
// apart), 0 where the column leaves [0, w).
func copyRow(out, x []float32, base, q, step, s1, w int) {
	n := len(out)
	if step == 1 && s1 == 1 { // the common case, without divisions
		if q >= 0 && q+n <= w { // and most often inside the row
			copy(out, x[base+q:base+q+n])
			return
		}
		j0 := min(max(-q, 0), n)
		j1 := min(max(w-q, j0), n)
		clear(out[:j0])
		copy(out[j0:j1], x[base+q+j0:base+q+j1])
		clear(out[j1:])
		return
	}
	j0 := 0
	if q < 0 {
		j0 = min(n, (-q+step-1)/step)
	}
	j1 := n
	if q+(n-1)*step >= w {
		j1 = max(j0, min(n, (w-q+step-1)/step))
	}
	clear(out[:j0])
	if step == 1 && s1 == 1 {
		copy(out[j0:j1], x[base+q+j0:base+q+j1])
	} else {
		for j := j0; j < j1; j++ {
			out[j] = x[base+(q+j*step)*s1]
		}
	}
	clear(out[j1:])
}

// contractionSegments splits every contraction block into runs of consecutive taps along the
// last kernel axis (same channel and first tap): segment.r0 holds the run's first contraction
// index.
func (c *conv) contractionSegments() [][]segment {
	out := make([][]segment, c.kBlocks)
	w := c.kDim[1]
	for kb := range c.kBlocks {
		for i := 0; i < Dim; {
			kk := kb*Dim + i
			if kk >= c.contract {
				break
			}
			t1 := kk % w // taps of the last axis are the fastest-varying part of kk
			n := min(Dim-i, w-t1, c.contract-kk)
			out[kb] = append(out[kb], segment{i0: i, n: n, r0: kk})
			i += n
		}
	}
	return out
}

// gatherAlongK fills n patch blocks [32 positions][32 k] (the transposed product's left
// blocks; 2-D, undilated input): per position, each run of consecutive taps is one read of an
// input row with the kernel dilation as step, written along a block row.
func (c *conv) gatherAlongK(dst []float32, g, rb, kb0, n int, kOff, kTap, rOff, rPos []int, kSegs [][]segment, ch *chunks) {
	gOff := g * c.cg * c.xsC
	h, w := c.xDim[0], c.xDim[1]
	s0, s1 := c.xsS[0], c.xsS[1]
	step := c.kDil[1]
	if step != 1 || s1 != 1 {
		ch = nil
	}
	x := uintptr(unsafe.Pointer(unsafe.SliceData(c.x)))
	for b := range n {
		blk := dst[b*BlockSize : (b+1)*BlockSize]
		segs := kSegs[kb0+b]
		covered := 0
		for _, sg := range segs {
			covered = sg.i0 + sg.n
		}
		for i := range Dim {
			row := blk[i*Dim : (i+1)*Dim]
			r := rb*Dim + i
			if r >= c.rows {
				clear(row)
				continue
			}
			for _, sg := range segs {
				kk := sg.r0
				out := row[sg.i0 : sg.i0+sg.n]
				p0 := rPos[r*2] + kTap[kk*2]
				if uint(p0) >= uint(h) {
					clear(out)
					continue
				}
				base := rOff[r] + gOff + kOff[kk] + p0*s0
				q := rPos[r*2+1] + kTap[kk*2+1] // input column of the run's first tap
				if ch != nil {
					ch.addRun(&out[0], x, base+q, q, sg.n, w, true)
					continue
				}
				copyRow(out, c.x, base, q, step, s1, w)
			}
			clear(row[covered:])
		}
	}
	if ch != nil {
		ch.run()
		runtime.KeepAlive(dst)
		runtime.KeepAlive(c.x)
	}
}

// write stores the output blocks [32 m][32 positions] of position block rb, group g
// ([32 positions][32 m] for the transposed product).
func (c *conv) write(acc []float32, g, rb int, oOff []int, transposed bool) {
	if transposed {
		for jb := range c.colBlocks {
			blk := acc[jb*BlockSize : (jb+1)*BlockSize]
			for i := range min(Dim, c.rows-rb*Dim) {
				o := c.out[oOff[rb*Dim+i]:]
				for jj, v := range blk[i*Dim : i*Dim+min(Dim, c.mg-jb*Dim)] {
					o[(g*c.mg+jb*Dim+jj)*c.osM] = v
				}
			}
		}
		return
	}
	r0 := rb * Dim
	// Positions of the block that follow each other in the output (one image, last axis
	// contiguous and rows back to back) are written as one copy per channel.
	contiguous := r0+Dim <= c.rows && oOff[r0+Dim-1]-oOff[r0] == Dim-1
	for jb := range c.colBlocks {
		blk := acc[jb*BlockSize : (jb+1)*BlockSize]
		for jj := range Dim {
			j := jb*Dim + jj
			if j >= c.mg {
				break
			}
			mOff := (g*c.mg + j) * c.osM
			src := blk[jj*Dim : (jj+1)*Dim]
			if contiguous {
				copy(c.out[oOff[r0]+mOff:oOff[r0]+mOff+Dim], src)
				continue
			}
			for i := range Dim {
				r := rb*Dim + i
				if r >= c.rows {
					break
				}
				c.out[oOff[r]+mOff] = src[i]
			}
		}
	}
}
