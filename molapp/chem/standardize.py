"""RDKit standardization shared by training and prediction.

Every SMILES a model sees, at training or at inference, goes through `standardize`, so a
model never meets a form it was not trained on. The result records what was changed
("stripped Na+", "neutralized charges") so the app can show it, and why a molecule was
rejected, in words a chemist understands.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from rdkit import Chem, RDLogger, rdBase
from rdkit.Chem import rdMolDescriptors
from rdkit.Chem.MolStandardize import rdMolStandardize

MAX_HEAVY_ATOMS = 250

# Elements up to bismuth, less noble gases, technetium and the lanthanides: what the
# MoleculeNet training sets cover in more than a handful of molecules.
_UNSUPPORTED_Z = {0, 2, 10, 18, 36, 43, 54} | set(range(57, 72))
_MAX_SUPPORTED_Z = 83
# One substructure query finds any unsupported atom in C++ (a Python loop over the atoms
# costs twice as much); the atoms are listed only for a molecule that has one.
_UNSUPPORTED_ATOM = Chem.MolFromSmarts(
    "[" + ",".join(f"#{z}" for z in sorted(_UNSUPPORTED_Z | set(range(_MAX_SUPPORTED_Z + 1, 119)))) + "]"
)


@dataclass
class StandardizedMolecule:
    """One input SMILES after standardization: `mol` is None exactly when `error` is set."""

    input_smiles: str
    mol: Chem.Mol | None = None
    canonical_smiles: str = ""
    changes: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.mol is not None


class _RDKitErrorLog(logging.Handler):
    """Collects RDKit's own error text (it logs it instead of raising)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage().strip())


def _parse_error(smiles: str) -> str:
    """Explain why RDKit rejected `smiles`: a syntax error (with RDKit's message), or a
    chemistry error (valence, aromaticity) found by sanitization. Slow path, failures only."""
    handler = _RDKitErrorLog()
    logger = logging.getLogger("rdkit")
    logger.addHandler(handler)
    RDLogger.EnableLog("rdApp.error")
    try:
        raw = Chem.MolFromSmiles(smiles, sanitize=False)
    finally:
        RDLogger.DisableLog("rdApp.*")
        logger.removeHandler(handler)
    if raw is None:
        detail = next((m for m in handler.messages if "Parse Error" in m), "")
        detail = detail.split("Parse Error:", 1)[-1].strip()
        return f"unparseable SMILES: {detail}" if detail else "unparseable SMILES"
    try:
        Chem.SanitizeMol(raw)
    except Chem.AtomValenceException as exc:
        return f"valence error: {_first_line(exc)}"
    except Chem.KekulizeException as exc:
        return f"aromaticity error (cannot kekulize): {_first_line(exc)}"
    except Exception as exc:  # noqa: BLE001 - any other sanitization failure
        return f"invalid chemistry: {_first_line(exc)}"
    return "RDKit could not read this molecule"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _formula(mol: Chem.Mol) -> str:
    return rdMolDescriptors.CalcMolFormula(mol)


# RDKit's messages go through Python logging (silenced), so `_parse_error` can read them.
rdBase.LogToPythonLogger()
RDLogger.DisableLog("rdApp.*")
logging.getLogger("rdkit").handlers.clear()
logging.getLogger("rdkit").propagate = False

_largest_fragment = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
_uncharger = rdMolStandardize.Uncharger(canonicalOrder=True)


def standardize(smiles: str) -> StandardizedMolecule:
    """Parse, keep the largest organic fragment, neutralize, validate, canonicalize.

    Fast path: a SMILES without '.' or charges skips the fragment chooser and uncharger,
    which then have nothing to do.
    """
    text = (smiles or "").strip() if isinstance(smiles, str) else ""
    result = StandardizedMolecule(input_smiles=smiles if isinstance(smiles, str) else "")
    if not text:
        result.error = "empty SMILES"
        return result
    mol = Chem.MolFromSmiles(text)
    if mol is None:
        result.error = _parse_error(text)
        return result

    if "." in text:
        fragments = Chem.GetMolFrags(mol, asMols=True)
        if len(fragments) > 1:
            kept = _largest_fragment.choose(mol)
            kept_smiles = Chem.MolToSmiles(kept)
            stripped = [_formula(f) for f in fragments if Chem.MolToSmiles(f) != kept_smiles]
            if stripped:
                result.changes.append("stripped " + ", ".join(stripped))
            mol = kept

    if "+" in text or "-" in text:
        if any(atom.GetFormalCharge() for atom in mol.GetAtoms()):
            before = Chem.MolToSmiles(mol)
            neutral = _uncharger.uncharge(mol)
            after = Chem.MolToSmiles(neutral)
            if after != before:
                result.changes.append(f"neutralized charges ({before} → {after})")
                mol = neutral

    heavy = mol.GetNumHeavyAtoms()
    if heavy == 0:
        result.error = "no heavy atoms"
        return result
    if heavy > MAX_HEAVY_ATOMS:
        result.error = f"too large: {heavy} heavy atoms (limit {MAX_HEAVY_ATOMS})"
        return result
    if mol.HasSubstructMatch(_UNSUPPORTED_ATOM):
        bad = sorted(
            {a.GetSymbol() for a in mol.GetAtoms() if a.GetAtomicNum() in _UNSUPPORTED_Z or a.GetAtomicNum() > _MAX_SUPPORTED_Z}
        )
        result.error = (
            f"unsupported element {', '.join(bad)}: models cover elements up to Bi, "
            "without noble gases, Tc, lanthanides or dummy atoms (*)"
        )
        return result

    result.mol = mol
    result.canonical_smiles = Chem.MolToSmiles(mol)
    return result
