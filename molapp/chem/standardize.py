"""RDKit standardization shared by training and prediction.

Every SMILES a model sees, at training or at inference, goes through `standardize`, so a
model never meets a form it was not trained on. The result records what was changed
("stripped Na+", "neutralized charges") so the app can show it, and why a molecule was
rejected, in words a chemist understands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rdkit import Chem, rdBase
from rdkit.Chem import rdMolDescriptors
from rdkit.Chem.MolStandardize import rdMolStandardize

from molapp.messages import first_line

MAX_HEAVY_ATOMS = 250
# Checked before RDKit reads the text: RDKit's parse time grows quadratically with the
# length of some strings (5,000 benzene rings take seconds), and 2,000 characters hold far
# more than MAX_HEAVY_ATOMS atoms.
MAX_SMILES_LENGTH = 2000
# Physically possible atoms: a formal charge within ±4 and no more positive than the atom
# has electrons; a mass number from Z (a bare nucleus of protons) to 3Z + 10 (beyond every
# known isotope). Read from the text, since RDKit stores both in 16 bits and silently wraps
# larger numbers ([65548C] is read as carbon-12). Radicals ([CH2]) are unusual but allowed.
MAX_ABS_FORMAL_CHARGE = 4
# Checked before the fragment chooser, whose time grows quadratically with the fragments
# (900 take a second); salts and mixtures have a handful.
MAX_FRAGMENTS = 100
# Trimmed from either end of an input: the whitespace a file or a paste adds. Anything else
# (a non-breaking space, a control character) is reported, not silently dropped.
_TRIMMED = " \t\r\n"

# Elements up to bismuth, less noble gases, technetium and the lanthanides: what the
# MoleculeNet training sets cover in more than a handful of molecules.
_UNSUPPORTED_Z = {0, 2, 10, 18, 36, 43, 54} | set(range(57, 72))
_MAX_SUPPORTED_Z = 83
# One substructure query finds any unsupported atom in C++ (a Python loop over the atoms
# costs twice as much); the atoms are listed only for a molecule that has one.
_UNSUPPORTED_ATOM = Chem.MolFromSmarts(
    "[" + ",".join(f"#{z}" for z in sorted(_UNSUPPORTED_Z | set(range(_MAX_SUPPORTED_Z + 1, 119)))) + "]"
)
# Metals among the supported elements. Those of groups 1 and 2 (less Be) are organic salts'
# usual counter-ions, stripped like any counter-ion; the others (Be, Al, transition and
# post-transition metals up to Bi) make complexes and organometallics, and a salt of
# theirs acts through the metal: neither is what the models learned, so neither is scored.
# Metalloids (B, Si, Ge, As, Sb, Te) are not metals here.
_COUNTER_ION_METALS = {3, 11, 19, 37, 55, 12, 20, 38, 56}
_COMPLEX_METALS = {4, 13, *range(21, 32), *range(39, 51), *range(72, _MAX_SUPPORTED_Z + 1)}
_METAL_ATOM = Chem.MolFromSmarts("[" + ",".join(f"#{z}" for z in sorted(_COUNTER_ION_METALS | _COMPLEX_METALS)) + "]")
_CARBON = Chem.MolFromSmarts("[#6]")
_NOT_SCORED = "models cover organic molecules; not scored"


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


# A SMILES is printable ASCII without spaces: anything else is the first thing to report.
_ODD_CHARACTER = re.compile(r"[^\x21-\x7e]")
_BRACKET_ATOM = re.compile(r"\[(\d*)(Cl|Br|[A-Z][a-z]?|se|as|te|si|[bcnops])([^\[\]]*)\]")
_CHARGE = re.compile(r"\+\d+|-\d+|\++|-+")
_ATOMIC_NUMBER = {Chem.GetPeriodicTable().GetElementSymbol(z): z for z in range(1, 119)}
_ATOMS_OUTSIDE_BRACKETS = set("BCNOPSFIbcnops*")
_BONDS_AND_DOTS = set("-=#$:/\\.")
# What each of a bond, '.', ring number and '(' may not follow, in `_syntax_error`'s walk.
_MAY_NOT_FOLLOW = {"bond": {"start", "dot", "bond"}, "dot": {"start", "dot", "bond", "open"},
                   "ring": {"start", "dot", "open"}, "open": {"start", "dot", "bond", "open"}}
_WHAT_CAME_BEFORE = {"start": "no atom", "dot": "a '.'", "bond": "a bond", "open": "'('", "close": "')'"}
# A bracket atom: isotope, element (or aromatic symbol, or *), chirality, hydrogens, charge, atom class.
_BRACKET_CONTENT = re.compile(r"\d*([A-Z][a-z]?|se|as|te|si|[bcnops]|\*)(?:@(?:@|TH[12]|AL[12]|SP[123]|TB\d\d?|OH\d\d?)?)?"
                              r"(?:H\d*)?(?:[+-]\d*|\+\+|--)?(?::\d+)?")


def _character_error(text: str) -> str:
    """The first character that does not belong in a SMILES: RDKit would stop at whitespace
    or skip the character and read a different molecule (ＣCO as CO), so it is refused."""
    odd = _ODD_CHARACTER.search(text)
    if odd is None:
        return ""
    char, position = odd.group(), odd.start() + 1
    if not char.isascii():
        shown = f"'{char}' " if char.isprintable() else ""
        return f"non-ASCII character {shown}(U+{ord(char):04X}) at position {position}"
    if char.isspace():
        return f"whitespace inside the SMILES at position {position}"
    return f"control character U+{ord(char):04X} at position {position}"


def _impossible_atom(text: str) -> str:
    """The first bracket atom with a charge or mass number no atom can have (rules above)."""
    for atom in _BRACKET_ATOM.finditer(text):
        isotope, symbol, rest = atom.groups()
        element = symbol.capitalize()
        z = _ATOMIC_NUMBER.get(element)
        if z is None:
            continue  # RDKit reports the unknown element
        where = f"at position {atom.start() + 1}"
        if isotope and not z <= int(isotope) <= 3 * z + 10:
            return f"impossible isotope {isotope}{element} {where}: mass number outside {z}–{3 * z + 10} for {element}"
        charge = _CHARGE.search(rest)
        if charge:
            sign, digits = (1 if charge.group()[0] == "+" else -1), charge.group().lstrip("+-")
            value = sign * (int(digits) if digits else len(charge.group()))
            if value > min(z, MAX_ABS_FORMAL_CHARGE) or value < -MAX_ABS_FORMAL_CHARGE:
                return (f"impossible formal charge {value:+d} on {element} {where}: beyond ±{MAX_ABS_FORMAL_CHARGE} "
                        f"or more than the atom's {z} electrons")
    return ""


def _bracket_error(content: str, position: int) -> str:
    """Why a bracket atom's content is not one atom: an unknown element, or a malformed atom."""
    match = _BRACKET_CONTENT.fullmatch(content)
    if match is None:
        return f"malformed bracket atom '[{content}]' at position {position}"
    symbol = match.group(1)
    if symbol != "*" and symbol.capitalize() not in _ATOMIC_NUMBER:
        return f"unknown element '{symbol}' in '[{content}]' at position {position}"
    return ""


def _token_kind(char: str) -> str:
    """The kind of a SMILES character, in `_MAY_NOT_FOLLOW`'s terms ("" for atoms and the rest)."""
    if char == ".":
        return "dot"
    if char in _BONDS_AND_DOTS:
        return "bond"
    if char.isdigit() or char == "%":
        return "ring"
    return "open" if char == "(" else ""


def _syntax_error(text: str) -> str:
    """Why RDKit could not read `text` as SMILES, found by walking the string ourselves:
    RDKit only logs its reason, process-wide, and cuts the quoted input mid-character.
    `before` is what the walk last met: an atom, a bond, a dot, '(', ')' or nothing yet."""
    branches: list[int] = []
    rings: dict[str, int] = {}
    before = "start"
    i = 0
    while i < len(text):
        char, position = text[i], i + 1
        if before in _MAY_NOT_FOLLOW.get(_token_kind(char), ()):
            return f"'{char}' at position {position} follows {_WHAT_CAME_BEFORE[before]}"
        if char == "[":
            close = text.find("]", i + 1)
            if close < 0 or "[" in text[i + 1 : close]:
                return f"unclosed '[' at position {position}"
            problem = _bracket_error(text[i + 1 : close], position)
            if problem:
                return problem
            i, before = close, "atom"
        elif char == "]":
            return f"']' at position {position} closes no atom"
        elif char == "(":
            branches.append(position)
            before = "open"
        elif char == ")":
            if not branches:
                return f"')' at position {position} closes no branch"
            if before not in ("atom", "close"):
                return f"')' at position {position} follows {_WHAT_CAME_BEFORE[before]}: an empty branch or a dangling bond"
            branches.pop()
            before = "close"
        elif char.isdigit() or char == "%":
            label = char if char.isdigit() else text[i : i + 3]
            if not re.fullmatch(r"\d|%\d\d", label):
                return f"'%' at position {position} is not followed by a two-digit ring number"
            i += len(label) - 1
            if rings.pop(label, None) is None:
                rings[label] = position
        elif char in _BONDS_AND_DOTS:
            before = _token_kind(char)
        elif text.startswith(("Cl", "Br"), i):
            i, before = i + 1, "atom"
        elif char in _ATOMS_OUTSIDE_BRACKETS:
            before = "atom"
        else:
            return f"unknown atom '{char}' at position {position}" if char.isalpha() else f"unexpected '{char}' at position {position}"
        i += 1
    if branches:
        return f"unclosed branch '(' at position {branches[-1]}"
    if rings:
        label, position = next(iter(rings.items()))
        return f"unclosed ring {label} at position {position}"
    if before in ("bond", "dot"):
        return f"the SMILES ends with '{text[-1]}', which bonds to nothing"
    return "RDKit's SMILES parser refused it (bonds, ring closures or stereo marks in a form it does not accept)"


def _parse_error(smiles: str) -> str:
    """Explain why RDKit rejected `smiles`: a syntax error, or a chemistry error (valence,
    aromaticity) found by sanitization. Nothing is read from RDKit's log, so the reason is
    this call's own, whatever other threads parse. Slow path, failures only."""
    raw = Chem.MolFromSmiles(smiles, sanitize=False)
    if raw is None:
        return f"unparseable SMILES: {_syntax_error(smiles)}"
    try:
        Chem.SanitizeMol(raw)
    except Chem.AtomValenceException as exc:
        return f"valence error: {first_line(exc)}"
    except Chem.KekulizeException as exc:
        return f"aromaticity error (cannot kekulize): {first_line(exc)}"
    except Exception as exc:  # noqa: BLE001 - any other sanitization failure
        return f"invalid chemistry: {first_line(exc)}"
    return "RDKit could not read this molecule"


def _formula(mol: Chem.Mol) -> str:
    return rdMolDescriptors.CalcMolFormula(mol)


def _unsupported_element(mol: Chem.Mol) -> str:
    if not mol.HasSubstructMatch(_UNSUPPORTED_ATOM):
        return ""
    bad = sorted({a.GetSymbol() for a in mol.GetAtoms() if a.GetAtomicNum() in _UNSUPPORTED_Z or a.GetAtomicNum() > _MAX_SUPPORTED_Z})
    return (f"unsupported element {', '.join(bad)}: models cover elements up to Bi, "
            "without noble gases, Tc, lanthanides or dummy atoms (*)")


def _in_complex(atom: Chem.Atom, has_carbon: bool) -> bool:
    """A complexing metal bonded to anything or beside an organic fragment (cisplatin's Pt,
    ferrocene's Fe²⁺ between two cyclopentadienides), or a counter-ion metal bonded to
    carbon (butyllithium)."""
    if atom.GetAtomicNum() in _COMPLEX_METALS:
        return atom.GetDegree() > 0 or has_carbon
    return atom.GetAtomicNum() in _COUNTER_ION_METALS and any(n.GetAtomicNum() == 6 for n in atom.GetNeighbors())


def _metal_complex(mol: Chem.Mol) -> str:
    """Why a molecule with a metal is not scored, or "" for an organic salt: keeping its
    largest organic fragment would score a ligand as if it were the compound."""
    has_carbon = mol.HasSubstructMatch(_CARBON)
    metals = sorted({a.GetSymbol() for a in mol.GetAtoms() if _in_complex(a, has_carbon)})
    return f"metal complex ({', '.join(metals)}): {_NOT_SCORED}" if metals else ""


def _inorganic(mol: Chem.Mol) -> str:
    """Why an input without carbon is not scored: no fragment of it is organic, so there is
    nothing to keep but a counter-ion."""
    if mol.HasSubstructMatch(_CARBON):
        return ""
    salt = mol.HasSubstructMatch(_METAL_ATOM) or len(Chem.GetMolFrags(mol)) > 1
    return f"inorganic {'salt' if salt else 'compound'} {_formula(mol)}, no organic fragment: {_NOT_SCORED}"


def _largest_organic_fragment(mol: Chem.Mol, changes: list[str]) -> Chem.Mol:
    """The largest organic fragment; every other fragment is recorded as stripped (a second
    copy of the kept one too: magnesium diacetate keeps one acetate)."""
    fragments = Chem.GetMolFrags(mol, asMols=True)
    if len(fragments) == 1:
        return mol
    kept = _largest_fragment.choose(mol)
    kept_at = [Chem.MolToSmiles(f) for f in fragments].index(Chem.MolToSmiles(kept))
    changes.append("stripped " + ", ".join(_formula(f) for i, f in enumerate(fragments) if i != kept_at))
    return kept


# Once, at import: every reason goes into its row's error, none to the console.
rdBase.DisableLog("rdApp.*")

_largest_fragment = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
_uncharger = rdMolStandardize.Uncharger(canonicalOrder=True)
_metal_disconnector = rdMolStandardize.MetalDisconnector()


def standardize(smiles: str) -> StandardizedMolecule:
    """Parse, keep the largest organic fragment, neutralize, validate, canonicalize.

    Text RDKit would misread or take long over is refused before it reads it: overlong
    strings, characters that are not printable ASCII, impossible charges and isotopes.
    Metal complexes and inputs without an organic fragment are refused, never swapped for
    a ligand or counter-ion, and so are more than MAX_FRAGMENTS fragments; what is stripped
    or neutralized is recorded in `changes`. A canonical SMILES that RDKit cannot read
    back is an error, so every molecule passed on can be drawn, exported and read again. Fast path: a SMILES without '.', charges or
    metals skips the fragment chooser and uncharger, which then have nothing to do.
    """
    text = (smiles or "").strip(_TRIMMED) if isinstance(smiles, str) else ""
    result = StandardizedMolecule(input_smiles=smiles if isinstance(smiles, str) else "")
    if not text:
        result.error = "empty SMILES"
        return result
    if len(text) > MAX_SMILES_LENGTH:
        result.error = f"SMILES too long: {len(text)} characters (limit {MAX_SMILES_LENGTH})"
        return result
    result.error = _character_error(text) or _impossible_atom(text)
    if result.error:
        return result
    mol = Chem.MolFromSmiles(text)
    if mol is None:
        result.error = _parse_error(text)
        return result

    has_metal = mol.HasSubstructMatch(_METAL_ATOM)
    result.error = _unsupported_element(mol) or (has_metal and _metal_complex(mol)) or ""
    if result.error:
        return result
    if has_metal:  # a counter-ion's ionic bond drawn as covalent (CC(=O)O[Na]) becomes two ions
        mol = _metal_disconnector.Disconnect(mol)
    if mol.GetNumHeavyAtoms() == 0:
        result.error = "no heavy atoms"
        return result
    result.error = _inorganic(mol)
    if result.error:
        return result

    if "." in text or has_metal:
        fragments = len(Chem.GetMolFrags(mol))
        if fragments > MAX_FRAGMENTS:
            result.error = f"too many fragments: {fragments} (limit {MAX_FRAGMENTS})"
            return result
        mol = _largest_organic_fragment(mol, result.changes)
    if "+" in text or "-" in text or has_metal:
        if any(atom.GetFormalCharge() for atom in mol.GetAtoms()):
            before = Chem.MolToSmiles(mol)
            neutral = _uncharger.uncharge(mol)
            after = Chem.MolToSmiles(neutral)
            if after != before:
                result.changes.append(f"neutralized charges ({before} → {after})")
                mol = neutral

    heavy = mol.GetNumHeavyAtoms()
    if heavy > MAX_HEAVY_ATOMS:
        result.error = f"too large: {heavy} heavy atoms (limit {MAX_HEAVY_ATOMS})"
        return result
    canonical = Chem.MolToSmiles(mol)
    if Chem.MolFromSmiles(canonical) is None:
        result.error = f"standardized form {canonical} does not read back: {_parse_error(canonical)}"
        return result
    result.mol = mol
    result.canonical_smiles = canonical
    return result
