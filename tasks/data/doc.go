// Package data is the dataset plumbing shared by the task packages: fetching files (task data
// folder, offline mirror, Go module cache, download) with checksum verification; readers for
// the formats the original datasets ship in (idx, npy, Python pickles of numpy/scipy objects,
// the California Housing archive, the Planetoid citation graphs); tabular preprocessing that
// reproduces scikit-learn's QuantileTransformer and StandardScaler; seeded splits and batch
// orders; and an in-memory dataset.
//
// The package imports tasks (for tasks.Batch), so tasks itself must not import it; task
// packages convert tasks.DataEnv with EnvFrom.
package data
