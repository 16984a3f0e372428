"""Drug-likeness of a molecule, as triage tables show it: size and polarity descriptors,
Lipinski's and Veber's rules, QED, and structural alerts (PAINS, Brenk) from RDKit's
FilterCatalog."""

from __future__ import annotations

import functools

from rdkit import Chem
from rdkit.Chem import QED, rdMolDescriptors
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

# Column names, in display order.
PROPERTIES = ["MW", "cLogP", "HBD", "HBA", "TPSA", "rotatable bonds", "QED", "Lipinski", "Veber", "PAINS", "Brenk"]


@functools.lru_cache(maxsize=2)
def _catalog(name: str) -> FilterCatalog:
    params = FilterCatalogParams()
    params.AddCatalog(getattr(FilterCatalogParams.FilterCatalogs, name))
    return FilterCatalog(params)


def alerts(mol: Chem.Mol, catalog: str) -> str:
    """Names of the catalog's alerts the molecule matches, '; '-joined ('' for none)."""
    return "; ".join(dict.fromkeys(m.GetDescription() for m in _catalog(catalog).GetMatches(mol)))


def drug_likeness(mol: Chem.Mol) -> dict:
    """One molecule's `PROPERTIES`. Lipinski passes with at most one violation of MW ≤ 500,
    cLogP ≤ 5, HBD ≤ 5, HBA ≤ 10; Veber with ≤ 10 rotatable bonds and TPSA ≤ 140 Å²."""
    qed_inputs = QED.properties(mol)  # MW, Crippen logP, PSA, … computed once, for QED and the table
    mw, clogp, tpsa = qed_inputs.MW, qed_inputs.ALOGP, qed_inputs.PSA
    hbd = rdMolDescriptors.CalcNumHBD(mol)  # Lipinski's counts (QED uses its own acceptor patterns)
    hba = rdMolDescriptors.CalcNumHBA(mol)
    rotatable = rdMolDescriptors.CalcNumRotatableBonds(mol)
    violations = (mw > 500) + (clogp > 5) + (hbd > 5) + (hba > 10)
    return {
        "MW": round(mw, 2),
        "cLogP": round(clogp, 2),
        "HBD": hbd,
        "HBA": hba,
        "TPSA": round(tpsa, 1),
        "rotatable bonds": rotatable,
        "QED": round(QED.qed(mol, qedProperties=qed_inputs), 3),
        "Lipinski": bool(violations <= 1),
        "Veber": bool(rotatable <= 10 and tpsa <= 140),
        "PAINS": alerts(mol, "PAINS"),
        "Brenk": alerts(mol, "BRENK"),
    }
