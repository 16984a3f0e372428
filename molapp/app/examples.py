"""Teaching molecules for the example picker, each with why it is interesting. Tox21
labels quoted here were read from tox21.csv (MoleculeNet)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    name: str
    smiles: str
    note: str


EXAMPLES = [
    Example("Bisphenol A", "CC(C)(c1ccc(O)cc1)c1ccc(O)cc1",
            "Plastics monomer and endocrine disruptor; Tox21 active in NR-ER, NR-ER-LBD, SR-ARE and SR-MMP."),
    Example("Tamoxifen", "CCC(=C(c1ccccc1)c1ccc(OCCN(C)C)cc1)c1ccccc1",
            "Breast-cancer drug that binds the estrogen receptor; Tox21 active in NR-ER, NR-ER-LBD and NR-Aromatase."),
    Example("Caffeine", "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
            "Everyday stimulant; inactive in 11 of the 12 Tox21 assays (labelled active only in SR-ARE)."),
    Example("Aspirin", "CC(=O)Oc1ccccc1C(=O)O",
            "Measured inactive in all 12 Tox21 assays: a negative control."),
    Example("Testosterone", "C[C@]12CC[C@H]3[C@@H](CCC4=CC(=O)CC[C@@]43C)[C@@H]1CC[C@@H]2O",
            "The androgen itself; Tox21 active in NR-AR and NR-AR-LBD (and the ER assays)."),
    Example("Estradiol", "C[C@]12CC[C@@H]3c4ccc(O)cc4CC[C@H]3[C@@H]1CC[C@@H]2O",
            "The natural estrogen; Tox21 active in NR-ER and NR-ER-LBD — compare its attention with bisphenol A's."),
    Example("Benzo[a]pyrene", "c1ccc2c(c1)cc1ccc3cccc4ccc2c1c34",
            "Polycyclic aromatic carcinogen; the textbook aryl hydrocarbon receptor (NR-AhR) active."),
    Example("Rosiglitazone", "CN(CCOc1ccc(CC2SC(=O)NC2=O)cc1)c1ccccn1",
            "Antidiabetic PPAR-gamma agonist; Tox21 active in NR-PPAR-gamma."),
    Example("Flutamide", "CC(C)C(=O)Nc1ccc([N+](=O)[O-])c(C(F)(F)F)c1",
            "Antiandrogen with a nitro group; Tox21 active in NR-Aromatase, SR-ARE and SR-MMP."),
    Example("Rotenone", "C=C(C)[C@H]1Cc2c(ccc3c2O[C@@H]2COc4cc(OC)c(OC)cc4[C@@H]2C3=O)O1",
            "Pesticide and mitochondrial complex I inhibitor; Tox21 active in SR-ARE and SR-p53."),
    Example("Doxorubicin", "COc1cccc2c1C(=O)c1c(O)c3c(c(O)c1C2=O)C[C@@](O)(C(=O)CO)C[C@@H]3O[C@H]1C[C@H](N)[C@H](O)[C@H](C)O1",
            "DNA-damaging anthracycline; Tox21 active in SR-p53 and SR-ATAD5 (genotoxicity)."),
    Example("Ketoconazole", "CC(=O)N1CCN(c2ccc(OC[C@H]3CO[C@](Cn4ccnc4)(c4ccc(Cl)cc4Cl)O3)cc2)CC1",
            "Antifungal; Tox21 active in SR-HSE (heat shock), NR-AhR and SR-ARE."),
    Example("Triclosan", "Oc1cc(Cl)ccc1Oc1ccc(Cl)cc1Cl",
            "Antibacterial in soaps; Tox21 active in SR-MMP, SR-HSE and NR-PPAR-gamma."),
]

EXAMPLES_BY_NAME = {e.name: e for e in EXAMPLES}
