"""Many substructure queries against one molecule, screened by pattern fingerprints.

A query can match a molecule only if every bit of the query's RDKit pattern fingerprint
is also set in the molecule's (the screen RDKit's own SubstructLibrary uses): one
bitwise test over all queries at once rules most of them out, and only the few left are
matched atom by atom. The screen never changes an answer, it only skips matches that
cannot succeed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogEntry

PATTERN_BITS = 2048


def pattern_bits(mol: Chem.Mol) -> np.ndarray:
    """RDKit pattern fingerprint of a molecule or query, packed: uint64 [PATTERN_BITS/64].
    (Packed through its FPS hex text: the bit order differs from the bit vector's, the
    same for every molecule and query, which is all a screen needs.)"""
    text = DataStructs.BitVectToFPSText(Chem.PatternFingerprint(mol, fpSize=PATTERN_BITS))
    return np.frombuffer(bytes.fromhex(text), dtype=np.uint64)


class SubstructureScreen:
    """The pattern fingerprints of `queries` [Q, PATTERN_BITS/64]; a query given as None
    (unknown pattern) has no bits and so is never screened out."""

    def __init__(self, queries: Sequence[Chem.Mol | None]) -> None:
        empty = np.zeros(PATTERN_BITS // 64, dtype=np.uint64)
        self.query_bits = np.stack([pattern_bits(q) if q is not None else empty for q in queries]) if queries else empty[None, :0]

    def candidates(self, molecule_bits: np.ndarray) -> np.ndarray:
        """Indices of the queries that may match a molecule with these pattern bits."""
        missing = self.query_bits & ~molecule_bits  # query bits the molecule lacks
        return np.flatnonzero(~missing.any(axis=1))


# A built-in FilterCatalog entry is one SMARTS matcher; its serialization (Boost text
# archive) holds the query as an RDKit mol pickle, "<length> <pickle>", the pickle starting
# with RDKit's magic number.
_PICKLE = re.compile(rb"(\d+) \xef\xbe\xad\xde")


def catalog_entry_query(entry: FilterCatalogEntry) -> Chem.Mol | None:
    """The query molecule of a FilterCatalog entry, or None where it cannot be read (the
    entry is then always matched in full, so the answer stays exact)."""
    data = entry.Serialize()
    found = _PICKLE.search(data)
    if found is None:
        return None
    start = found.start(1) + len(found.group(1)) + 1
    try:
        return Chem.Mol(data[start : start + int(found.group(1))])
    except Exception:  # noqa: BLE001 - an unreadable pattern only costs speed
        return None


@dataclass(frozen=True)
class Alert:
    """One structural alert: its description, its query molecule for the screen (None: never
    screened out) and `matches(mol)`, the exact test."""

    description: str
    query: Chem.Mol | None
    matches: Callable[[Chem.Mol], bool]


def catalog_alerts(catalog: FilterCatalog) -> list[Alert]:
    """A FilterCatalog's entries, in catalog order, each tested as the catalog tests it."""
    entries = [catalog.GetEntryWithIdx(i) for i in range(catalog.GetNumEntries())]
    return [Alert(e.GetDescription(), catalog_entry_query(e), e.HasFilterMatch) for e in entries]


def smarts_alerts(queries: Sequence[Chem.Mol]) -> list[Alert]:
    return [Alert(Chem.MolToSmarts(q), q, functools.partial(_has_match, query=q)) for q in queries]


def _has_match(mol: Chem.Mol, query: Chem.Mol) -> bool:
    return mol.HasSubstructMatch(query)


class ScreenedAlerts:
    """Named sets of alerts screened together: one bitwise test over every alert of every
    set per molecule, then the exact test of the few candidates left. The answer is the
    unscreened one (each alert's own test), at a fraction of the time."""

    def __init__(self, alert_sets: Mapping[str, Sequence[Alert]]) -> None:
        self.names = list(alert_sets)
        self.alerts = [alert for name in self.names for alert in alert_sets[name]]
        self.set_index = [k for k, name in enumerate(self.names) for _ in alert_sets[name]]
        self.screen = SubstructureScreen([alert.query for alert in self.alerts])

    def matches(self, mol: Chem.Mol, molecule_bits: np.ndarray) -> dict[str, list[str]]:
        """Each set's matched alerts' descriptions, in the set's order (one per alert)."""
        found: dict[str, list[str]] = {name: [] for name in self.names}
        for i in self.screen.candidates(molecule_bits):
            if self.alerts[i].matches(mol):
                found[self.names[self.set_index[i]]].append(self.alerts[i].description)
        return found
