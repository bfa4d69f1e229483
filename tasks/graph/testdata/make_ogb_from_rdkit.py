"""Converts a real molecular set that Debian ships offline into OGB's ogbg-molhiv layout, so the
graph task can train on it without internet: the 5,000 NCI compounds of rdkit-data
(/usr/share/RDKit/Data/NCI/first_5K.smi) with their topological polar surface area as computed
by Daylight (first_5k.tpsa.csv); the binary label is TPSA above the median. (ogbg-molhiv itself is
drawn from NCI's AIDS antiviral screen.) The solubility SDFs of RDKit's book are not part of
Debian's rdkit-data 2022.09.

Atoms and bonds are featurised as ogb.utils.features.atom_to_feature_vector and
bond_to_feature_vector do (re-implemented below, OGB 1.3), bonds are listed once (OGB adds the
reverse edges when reading), and the split is OGB's scaffold split (RDKit Murcko scaffolds with
chirality, scaffold sets largest first, 80/10/10).

Run: /usr/bin/python3 tasks/graph/testdata/make_ogb_from_rdkit.py OUT_DIR [--limit N]
writes OUT_DIR/graph/hiv/{raw,split/scaffold,mapping}/*.csv.gz; train with engine.data_dir=OUT_DIR.
Needs python3-rdkit and rdkit-data.
"""
import argparse
import gzip
import os

from rdkit import Chem, RDLogger
from rdkit.Chem.Scaffolds import MurckoScaffold

NCI = "/usr/share/RDKit/Data/NCI"

# ogb.utils.features.allowable_features
ALLOWABLE = {
    "atomic_num": list(range(1, 119)) + ["misc"],
    "chirality": ["CHI_UNSPECIFIED", "CHI_TETRAHEDRAL_CW", "CHI_TETRAHEDRAL_CCW", "CHI_OTHER", "misc"],
    "degree": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, "misc"],
    "formal_charge": [-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, "misc"],
    "num_h": [0, 1, 2, 3, 4, 5, 6, 7, 8, "misc"],
    "radical_e": [0, 1, 2, 3, 4, "misc"],
    "hybridization": ["SP", "SP2", "SP3", "SP3D", "SP3D2", "misc"],
    "aromatic": [False, True],
    "in_ring": [False, True],
    "bond_type": ["SINGLE", "DOUBLE", "TRIPLE", "AROMATIC", "misc"],
    "bond_stereo": ["STEREONONE", "STEREOZ", "STEREOE", "STEREOCIS", "STEREOTRANS", "STEREOANY"],
    "conjugated": [False, True],
}


def safe_index(values, v):
    """OGB's safe_index: the last entry ('misc') for values outside the list."""
    try:
        return values.index(v)
    except ValueError:
        return len(values) - 1


def atom_to_feature_vector(atom):
    return [
        safe_index(ALLOWABLE["atomic_num"], atom.GetAtomicNum()),
        ALLOWABLE["chirality"].index(str(atom.GetChiralTag())),
        safe_index(ALLOWABLE["degree"], atom.GetTotalDegree()),
        safe_index(ALLOWABLE["formal_charge"], atom.GetFormalCharge()),
        safe_index(ALLOWABLE["num_h"], atom.GetTotalNumHs()),
        safe_index(ALLOWABLE["radical_e"], atom.GetNumRadicalElectrons()),
        safe_index(ALLOWABLE["hybridization"], str(atom.GetHybridization())),
        ALLOWABLE["aromatic"].index(atom.GetIsAromatic()),
        ALLOWABLE["in_ring"].index(atom.IsInRing()),
    ]


def bond_to_feature_vector(bond):
    return [
        safe_index(ALLOWABLE["bond_type"], str(bond.GetBondType())),
        ALLOWABLE["bond_stereo"].index(str(bond.GetStereo())),
        ALLOWABLE["conjugated"].index(bond.GetIsConjugated()),
    ]


def scaffold_split(mols, frac_train=0.8, frac_valid=0.1):
    """OGB's (deepchem's) scaffold split: Murcko scaffold sets, largest first, fill train, then
    valid, then test."""
    scaffolds = {}
    for i, m in enumerate(mols):
        s = MurckoScaffold.MurckoScaffoldSmiles(mol=m, includeChirality=True)
        scaffolds.setdefault(s, []).append(i)
    sets = sorted(scaffolds.values(), key=lambda x: (len(x), x[0]), reverse=True)
    n = len(mols)
    train, valid, test = [], [], []
    for group in sets:
        if len(train) + len(group) > frac_train * n:
            if len(train) + len(valid) + len(group) > (frac_train + frac_valid) * n:
                test += group
            else:
                valid += group
        else:
            train += group
    return sorted(train), sorted(valid), sorted(test)


def read_nci(limit):
    smiles, tpsa = [], []
    with open(os.path.join(NCI, "first_5k.tpsa.csv")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            s, v = line.rsplit(",", 1)
            smiles.append(s)
            tpsa.append(float(v))
    mols, kept_smiles, kept_tpsa = [], [], []
    for s, v in zip(smiles, tpsa):
        m = Chem.MolFromSmiles(s)
        if m is None or m.GetNumAtoms() == 0:
            continue
        mols.append(m)
        kept_smiles.append(s)
        kept_tpsa.append(v)
        if limit and len(mols) >= limit:
            break
    return mols, kept_smiles, kept_tpsa


def write_gz(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with gzip.open(path, "wt") as f:
        f.write("".join(line + "\n" for line in lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--limit", type=int, default=0, help="keep only the first N molecules")
    args = ap.parse_args()
    RDLogger.DisableLog("rdApp.*")
    mols, smiles, tpsa = read_nci(args.limit)
    median = sorted(tpsa)[len(tpsa) // 2]
    labels = [1 if v > median else 0 for v in tpsa]
    nn, ne, nf, edges, ef = [], [], [], [], []
    for m in mols:
        nn.append(str(m.GetNumAtoms()))
        ne.append(str(m.GetNumBonds()))
        nf += [",".join(map(str, atom_to_feature_vector(a))) for a in m.GetAtoms()]
        for b in m.GetBonds():
            edges.append(f"{b.GetBeginAtomIdx()},{b.GetEndAtomIdx()}")
            ef.append(",".join(map(str, bond_to_feature_vector(b))))
    root = os.path.join(args.out, "graph", "hiv")
    raw = os.path.join(root, "raw")
    write_gz(os.path.join(raw, "num_node_list.csv.gz"), nn)
    write_gz(os.path.join(raw, "num_edge_list.csv.gz"), ne)
    write_gz(os.path.join(raw, "node_feat.csv.gz"), nf)
    write_gz(os.path.join(raw, "edge.csv.gz"), edges)
    write_gz(os.path.join(raw, "edge_feat.csv.gz"), ef)
    write_gz(os.path.join(raw, "graph-label.csv.gz"), [str(y) for y in labels])
    for name, idx in zip(["train", "valid", "test"], scaffold_split(mols)):
        write_gz(os.path.join(root, "split", "scaffold", name + ".csv.gz"), [str(i) for i in idx])
    write_gz(os.path.join(root, "mapping", "mol.csv.gz"),
             ["tpsa_above_median,smiles,mol_id"] + [f"{y},{s},{i}" for i, (y, s) in enumerate(zip(labels, smiles))])
    n_nodes = sum(int(x) for x in nn)
    print(f"wrote {root}: {len(mols)} molecules, {n_nodes} atoms, {len(edges)} bonds, "
          f"{sum(labels)} positive (TPSA > {median}), split "
          + "/".join(str(len(s)) for s in scaffold_split(mols)))


if __name__ == "__main__":
    main()
