"""Drug-likeness of a molecule, as triage tables show it: size and polarity descriptors,
Lipinski's and Veber's rules, QED, and structural alerts (PAINS, Brenk) from RDKit's
FilterCatalog.

Substructure alerts dominate the cost (PAINS alone is 480 SMARTS); the molecule's pattern
fingerprint, computed once, screens them and QED's own 116 alerts (`molapp.chem.screening`),
which gives RDKit's answers at about a third of the time.
"""

from __future__ import annotations

import functools

from rdkit import Chem
from rdkit.Chem import QED, Crippen, MolSurf, rdMolDescriptors
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

from molapp.chem.screening import ScreenedAlerts, catalog_alerts, pattern_bits, smarts_alerts

# Column names, in display order.
PROPERTIES = ["MW", "cLogP", "HBD", "HBA", "TPSA", "rotatable bonds", "QED", "Lipinski", "Veber", "PAINS", "Brenk"]
ALERT_CATALOGS = {"PAINS": "PAINS", "Brenk": "BRENK"}  # column → RDKit FilterCatalogs name


@functools.lru_cache(maxsize=1)
def _alerts() -> ScreenedAlerts:
    """PAINS and Brenk (the table's columns) and QED's own 116 alerts, under one screen."""
    alert_sets = {}
    for column, name in ALERT_CATALOGS.items():
        params = FilterCatalogParams()
        params.AddCatalog(getattr(FilterCatalogParams.FilterCatalogs, name))
        alert_sets[column] = catalog_alerts(FilterCatalog(params))
    alert_sets["QED"] = smarts_alerts(QED.StructuralAlerts)
    return ScreenedAlerts(alert_sets)


def qed_properties(mol: Chem.Mol, qed_alerts: int) -> QED.QEDproperties:
    """`rdkit.Chem.QED.properties` given its structural-alert count (the same values; `mol`
    without explicit hydrogens)."""
    return QED.QEDproperties(
        MW=rdMolDescriptors._CalcMolWt(mol),
        ALOGP=Crippen.MolLogP(mol),
        HBA=sum(len(mol.GetSubstructMatches(p)) for p in QED.Acceptors if mol.HasSubstructMatch(p)),
        HBD=rdMolDescriptors.CalcNumHBD(mol),
        PSA=MolSurf.TPSA(mol),
        ROTB=rdMolDescriptors.CalcNumRotatableBonds(mol, rdMolDescriptors.NumRotatableBondsOptions.Strict),
        AROM=len(Chem.GetSSSR(Chem.DeleteSubstructs(Chem.Mol(mol), QED.AliphaticRings))),
        ALERTS=qed_alerts,
    )


def drug_likeness(mol: Chem.Mol) -> dict:
    """One molecule's `PROPERTIES` (explicit hydrogens are removed first, as QED does).
    Lipinski passes with at most one violation of MW ≤ 500, cLogP ≤ 5, HBD ≤ 5, HBA ≤ 10;
    Veber with ≤ 10 rotatable bonds and TPSA ≤ 140 Å². PAINS and Brenk: the names of the
    alerts matched, '; '-joined ('' for none)."""
    if mol.GetNumAtoms() != mol.GetNumHeavyAtoms():
        mol = Chem.RemoveHs(mol)  # a copy: only when there are hydrogens to remove, it recomputes ring perception
    alerts = _alerts().matches(mol, pattern_bits(mol))
    qed_inputs = qed_properties(mol, len(alerts["QED"]))  # MW, Crippen logP, PSA, … computed once, for QED and the table
    mw, clogp, tpsa, hbd, rotatable = qed_inputs.MW, qed_inputs.ALOGP, qed_inputs.PSA, qed_inputs.HBD, qed_inputs.ROTB
    hba = rdMolDescriptors.CalcNumHBA(mol)  # Lipinski's count (QED uses its own acceptor patterns)
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
        **{column: "; ".join(dict.fromkeys(alerts[column])) for column in ALERT_CATALOGS},
    }
