"""The MoleculeNet benchmark files molapp knows: where they come from and what they hold.

Task names are exactly the CSV's column names; `task_labels` gives a human label beside
each where one helps.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path

_S3 = "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets"

TOX21_LABELS = {
    "NR-AR": "androgen receptor (full length)",
    "NR-AR-LBD": "androgen receptor ligand-binding domain",
    "NR-AhR": "aryl hydrocarbon receptor",
    "NR-Aromatase": "aromatase inhibition",
    "NR-ER": "estrogen receptor alpha (full length)",
    "NR-ER-LBD": "estrogen receptor ligand-binding domain",
    "NR-PPAR-gamma": "PPAR-gamma",
    "SR-ARE": "antioxidant response element (Nrf2)",
    "SR-ATAD5": "ATAD5 genotoxicity",
    "SR-HSE": "heat-shock response",
    "SR-MMP": "mitochondrial membrane potential",
    "SR-p53": "p53 DNA-damage response",
}

NCI60_LABELS = {  # PubChem AID → cell line (cancer type), the GraphMem paper's cancer assays
    "AID1": "NCI-H23 (lung)",
    "AID33": "UACC-257 (melanoma)",
    "AID41": "PC-3 (prostate)",
    "AID47": "SF-295 (central nervous system)",
    "AID81": "SW-620 (colon)",
    "AID83": "MCF-7 (breast)",
    "AID109": "OVCAR-8 (ovarian)",
    "AID123": "MOLT-4 (leukemia)",
    "AID145": "SN12C (renal)",
}

SIDER_TASKS = [
    "Hepatobiliary_disorders",
    "Metabolism_and_nutrition_disorders",
    "Product_issues",
    "Eye_disorders",
    "Investigations",
    "Musculoskeletal_and_connective_tissue_disorders",
    "Gastrointestinal_disorders",
    "Social_circumstances",
    "Immune_system_disorders",
    "Reproductive_system_and_breast_disorders",
    "Neoplasms_benign,_malignant_and_unspecified_(incl_cysts_and_polyps)",
    "General_disorders_and_administration_site_conditions",
    "Endocrine_disorders",
    "Surgical_and_medical_procedures",
    "Vascular_disorders",
    "Blood_and_lymphatic_system_disorders",
    "Skin_and_subcutaneous_tissue_disorders",
    "Congenital,_familial_and_genetic_disorders",
    "Infections_and_infestations",
    "Respiratory,_thoracic_and_mediastinal_disorders",
    "Psychiatric_disorders",
    "Renal_and_urinary_disorders",
    "Pregnancy,_puerperium_and_perinatal_conditions",
    "Ear_and_labyrinth_disorders",
    "Cardiac_disorders",
    "Nervous_system_disorders",
    "Injury,_poisoning_and_procedural_complications",
]


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    filename: str
    url: str
    smiles_column: str
    tasks: list[str]
    task_type: str  # "classification" or "regression"
    metric: str  # "roc_auc" or "rmse"
    description: str
    task_labels: dict[str, str] = field(default_factory=dict)
    units: str = ""
    sha256: str = ""  # of the file as stored (after gunzip): a download that differs is refused
    # A balanced subset of another dataset (its name): that dataset's file and canonical
    # split files, every active kept and as many inactives sampled (`balanced_labels`), the
    # way the NCI-60 sets were made; "" for a dataset that is its file.
    balanced_subset_of: str = ""

    @property
    def split_name(self) -> str:
        """The name in its canonical split files' names: a subset's rows are its source's."""
        return self.balanced_subset_of or self.name

    def label(self, task: str) -> str:
        """'SR-p53 — p53 DNA-damage response', or the task name alone."""
        human = self.task_labels.get(task)
        return f"{task} — {human}" if human else task.replace("_", " ")


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in [
        DatasetSpec(
            "tox21", "tox21.csv", f"{_S3}/tox21.csv.gz", "smiles", list(TOX21_LABELS), "classification",
            "roc_auc", "Tox21: 12 nuclear-receptor and stress-response toxicity assays", TOX21_LABELS,
            sha256="7d7e7facd853a63e79ddce4e9c3fcb7a0d83a1c300b603031c0f2c64fbe77761",
        ),
        DatasetSpec(
            "hiv", "hiv.csv", f"{_S3}/HIV.csv", "smiles", ["HIV_active"], "classification", "roc_auc",
            "NCI AIDS antiviral screen", {"HIV_active": "inhibits HIV replication (CM/CA)"},
            sha256="b72f0cf00cd1f45ae5c415f21aef10e69187e30dd24029ddb345fbca35b0d798",
        ),
        DatasetSpec(
            "bace", "bace.csv", f"{_S3}/bace.csv", "mol", ["Class"], "classification", "roc_auc",
            "BACE-1 inhibition", {"Class": "BACE-1 inhibitor"},
            sha256="f3fb9ce90bada3e2bd6148b0df13f8f8145a357bf87df0dd5b391ede974fc737",
        ),
        DatasetSpec(
            "bbbp", "bbbp.csv", f"{_S3}/BBBP.csv", "smiles", ["p_np"], "classification", "roc_auc",
            "blood-brain barrier penetration", {"p_np": "penetrates the blood-brain barrier"},
            sha256="d07a38487aeac5cee5508413e468043ef3097451d2a112701c2d60be9ec6b662",
        ),
        DatasetSpec(
            "clintox", "clintox.csv", f"{_S3}/clintox.csv.gz", "smiles", ["FDA_APPROVED", "CT_TOX"],
            "classification", "roc_auc", "clinical-trial toxicity and FDA approval",
            {"FDA_APPROVED": "FDA approved", "CT_TOX": "failed clinical trials for toxicity"},
            sha256="9999816e760dd838358b5d88e81cea2fc062be4458ffa412ceecdba4f88a67b6",
        ),
        DatasetSpec(
            "sider", "sider.csv", f"{_S3}/sider.csv.gz", "smiles", SIDER_TASKS, "classification", "roc_auc",
            "SIDER: 27 side-effect organ classes of marketed drugs",
            sha256="87b937d1ddb1879bb14e8f23d94ceffcb9ad3e534ae59602820b3bcf03844fbf",
        ),
        DatasetSpec(
            "esol", "esol.csv", f"{_S3}/delaney-processed.csv", "smiles",
            ["measured log solubility in mols per litre"], "regression", "rmse", "ESOL aqueous solubility",
            {"measured log solubility in mols per litre": "aqueous solubility, log mol/L"}, "log mol/L",
            sha256="8c06a76f0c6487d29ab0f903e6a7a7139f189ab3c1178f159c8be8964602f189",
        ),
        DatasetSpec(
            "lipophilicity", "lipophilicity.csv", f"{_S3}/Lipophilicity.csv", "smiles", ["exp"], "regression",
            "rmse", "octanol/water distribution coefficient", {"exp": "logD at pH 7.4"}, "logD",
            sha256="aed41590cb30609d51d8e08ad3ff06495a76e80e211358801f596b10da69bacd",
        ),
        DatasetSpec(
            "freesolv", "freesolv.csv", f"{_S3}/SAMPL.csv", "smiles", ["expt"], "regression", "rmse",
            "FreeSolv hydration free energy", {"expt": "hydration free energy, kcal/mol"}, "kcal/mol",
            sha256="ab5895d914ee87cb563bd7b9611e869527bba45bec6b014d34dc495a0f9dcb72",
        ),
        DatasetSpec(
            # Balanced subsets of nine NCI DTP cell-line screens built for this project (see
            # ../shared/data/README.md); no public file holds them, so there is nothing to download.
            "nci60_balanced", "nci60/nci60_balanced.csv", "", "smiles", list(NCI60_LABELS), "classification",
            "roc_auc", "NCI-60: growth inhibition of nine human cancer cell lines (balanced subsets)", NCI60_LABELS,
            sha256="6100c4ff501ec5f04aff9a8d5ce0568a495a93da90bf2b659fcc787fb65971ee",
        ),
    ]
}


# The GraphMem paper's AIDS antiviral assay, balanced as the NCI-60 sets are (the paper
# subsampled its inactives too), for its joint-training experiments: hiv's file, its rows.
DATASETS["aids_balanced"] = replace(
    DATASETS["hiv"], name="aids_balanced", balanced_subset_of="hiv",
    description="NCI AIDS antiviral screen (balanced subset: every active, as many inactives sampled)")


def get_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


def default_data_dir() -> Path:
    """`MOLAPP_DATA` if set, else ../shared/data beside the project, else ./data."""
    env = os.environ.get("MOLAPP_DATA")
    if env:
        return Path(env)
    shared = Path(__file__).resolve().parents[3] / "shared" / "data"
    return shared if shared.exists() else Path("data")


def csv_path(name: str, data_dir: str | Path | None = None, download: bool = True) -> Path:
    """Path of a dataset's CSV in `data_dir` (or its `moleculenet/` subfolder).

    A missing file is downloaded from its public MoleculeNet URL; when that fails the
    error says which file to put where.
    """
    spec = get_spec(name)
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    for candidate in (root / spec.filename, root / "moleculenet" / spec.filename):
        if candidate.exists():
            return candidate
    target = root / spec.filename
    if download and not spec.url:
        raise FileNotFoundError(f"{spec.filename} not found in {root}; it has no public download. Point --data-dir / "
                                "MOLAPP_DATA at the folder that holds it (the project's shared data folder).")
    if download:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _download(spec, target)
            return target
        except OSError as exc:
            reason = f"download from {spec.url} failed ({exc})"
    else:
        reason = "downloading is off"
    raise FileNotFoundError(
        f"{spec.filename} not found in {root} and {reason}. Put the MoleculeNet file {spec.filename} "
        f"(from {spec.url}) at {target}, or point --data-dir / MOLAPP_DATA at a folder that holds it."
    )


def _download(spec: DatasetSpec, target: Path) -> None:
    """Fetch (and gunzip) the file, and keep it only if its SHA-256 is the published file's:
    a changed or corrupted download would silently change every benchmark figure."""
    import gzip
    import shutil

    partial = target.with_suffix(".part")
    with urllib.request.urlopen(spec.url, timeout=30) as response, open(partial, "wb") as out:
        source = gzip.GzipFile(fileobj=response) if spec.url.endswith(".gz") else response
        shutil.copyfileobj(source, out)
    digest = hashlib.sha256(partial.read_bytes()).hexdigest()
    if spec.sha256 and digest != spec.sha256:
        partial.unlink()
        raise ValueError(f"the file downloaded from {spec.url} has SHA-256 {digest}, not the published file's {spec.sha256}; "
                         f"it was deleted. Put the MoleculeNet file {spec.filename} at {target}, or point --data-dir / "
                         "MOLAPP_DATA at a folder that holds it.")
    partial.replace(target)


def split_path(name: str, split: str, data_dir: str | Path | None = None) -> Path | None:
    """The canonical split file `<name>_<split>.json` under `data_dir/splits`, if present."""
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    path = root / "splits" / f"{get_spec(name).split_name}_{split}.json"
    return path if path.exists() else None
