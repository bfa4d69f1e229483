package data

import (
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/fob-go/fob/internal/atomicfile"
)

// WriteOGBZip writes d as OGB publishes a graph property prediction set: a zip holding
// <name>/raw/*.csv.gz, <name>/split/<split>/{train,valid,test}.csv.gz and <name>/mapping/, the
// layout ReadOGB reads. With inverse edges (d read with addInverse), only every other edge, the
// one OGB lists, is written. Tests and tools use it to build small sets in the official format.
func WriteOGBZip(path, name, split string, d *OGBGraphs, addInverse bool) error {
	step := 1
	if addInverse {
		step = 2
	}
	files := map[string]string{}
	var nn, ne, nf, edge, ef, lab strings.Builder
	for g := 0; g < d.NumGraphs(); g++ {
		fmt.Fprintln(&nn, d.NodeStart[g+1]-d.NodeStart[g])
		fmt.Fprintln(&ne, (d.EdgeStart[g+1]-d.EdgeStart[g])/step)
		for e := d.EdgeStart[g]; e < d.EdgeStart[g+1]; e += step {
			fmt.Fprintf(&edge, "%d,%d\n", d.Src[e], d.Dst[e])
			writeRow(&ef, d.EdgeFeat[e*d.EdgeFeatDim:(e+1)*d.EdgeFeatDim])
		}
		if math.IsNaN(d.Labels[g]) {
			lab.WriteString("nan\n")
		} else {
			lab.WriteString(strconv.FormatFloat(d.Labels[g], 'g', -1, 64) + "\n")
		}
	}
	for i := 0; i < len(d.NodeFeat); i += d.NodeFeatDim {
		writeRow(&nf, d.NodeFeat[i:i+d.NodeFeatDim])
	}
	raw := name + "/raw/"
	files[raw+"num_node_list.csv.gz"] = nn.String()
	files[raw+"num_edge_list.csv.gz"] = ne.String()
	files[raw+"node_feat.csv.gz"] = nf.String()
	files[raw+"edge.csv.gz"] = edge.String()
	files[raw+"edge_feat.csv.gz"] = ef.String()
	files[raw+"graph-label.csv.gz"] = lab.String()
	for _, s := range []string{"train", "valid", "test"} {
		var b strings.Builder
		for _, g := range d.Splits[s] {
			fmt.Fprintln(&b, g)
		}
		files[name+"/split/"+split+"/"+s+".csv.gz"] = b.String()
	}
	files[name+"/mapping/README.md"] = "written by fob (data.WriteOGBZip)\n"
	return atomicfile.WriteFunc(path, func(w io.Writer) error {
		zw := zip.NewWriter(w)
		names := make([]string, 0, len(files))
		for rel := range files {
			names = append(names, rel)
		}
		slices.Sort(names) // a deterministic archive
		for _, rel := range names {
			text := files[rel]
			f, err := zw.Create(rel)
			if err != nil {
				return err
			}
			if !strings.HasSuffix(rel, ".gz") {
				if _, err := io.WriteString(f, text); err != nil {
					return err
				}
				continue
			}
			gz := gzip.NewWriter(f)
			if _, err := io.WriteString(gz, text); err != nil {
				return err
			}
			if err := gz.Close(); err != nil {
				return err
			}
		}
		return zw.Close()
	})
}

func writeRow(b *strings.Builder, row []int64) {
	for i, v := range row {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(v, 10))
	}
	b.WriteByte('\n')
}
