"""Pictures of molecules and of per-atom weights: RDKit 2D SVG with a colour bar, and a 3D
conformer (ETKDG) for py3Dmol with atoms coloured and sized by the same weights; cluster
colourings; table thumbnails and grids."""

from __future__ import annotations

import base64
import functools
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import NamedTuple

import numpy as np
from rdkit import Chem
from rdkit.Chem import AllChem, Draw
from rdkit.Chem.Draw import rdMolDraw2D

from molapp.inference.parallel import server_safe_context

# A sequential white → yellow → orange → red scale (the "YlOrRd" family): readable on
# white, and monotone in lightness so printouts keep the order.
_STOPS = np.array([[255, 255, 229], [254, 217, 118], [253, 141, 60], [227, 26, 28], [128, 0, 38]], dtype=float) / 255
# Qualitative colours for clusters (Okabe–Ito, then Tableau): distinct for colour-blind readers too.
CLUSTER_PALETTE = ["#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442", "#999999",
                   "#4E79A7", "#59A14F", "#B07AA1", "#FF9DA7", "#9C755F", "#EDC948", "#76B7B2", "#E15759"]
THREE_DMOL_LOCAL = "app/static/3Dmol-min.js"  # served by Streamlit's static file serving
THREE_DMOL_CDN = "https://cdn.jsdelivr.net/npm/3dmol@2.5.5/build/3Dmol-min.js"
# Subresource integrity of build/3Dmol-min.js in the npm package 3dmol@2.5.5 (the file both
# URLs serve): the browser refuses a CDN copy that was changed. Another version needs its hash.
THREE_DMOL_INTEGRITY = "sha384-OsczYbldvrHgslr9fFp/i4GiLSeuw9l+QIlv99ITw8soOwXcoGeflFMLg+CU/X1d"


def colour(value: float) -> tuple[float, float, float]:
    """RGB in [0, 1] for a value in [0, 1]."""
    position = float(np.clip(value, 0, 1)) * (len(_STOPS) - 1)
    low = int(np.floor(position))
    high = min(low + 1, len(_STOPS) - 1)
    mix = position - low
    return tuple((1 - mix) * _STOPS[low] + mix * _STOPS[high])


def hex_colour(value: float) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in colour(value))


def _strip_xml_header(svg: str) -> str:
    return svg.split("?>", 1)[1] if svg.startswith("<?xml") else svg


def molecule_svg(mol: Chem.Mol, width: int = 360, height: int = 260, atom_numbers: bool = False) -> str:
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    drawer.drawOptions().clearBackground = False
    drawer.drawOptions().addAtomIndices = atom_numbers
    rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol)
    drawer.FinishDrawing()
    return _strip_xml_header(drawer.GetDrawingText())


def weights_svg(mol: Chem.Mol, weights: np.ndarray, width: int = 420, height: int = 300, label: str = "attention weight") -> str:
    """The molecule with each atom's disc coloured (and sized) by its weight, scaled to the
    largest weight, and a colour bar from 0 to that weight beneath."""
    weights = np.asarray(weights, dtype=float)
    top = float(weights.max()) if weights.size and weights.max() > 0 else 1.0
    scaled = weights / top
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    options = drawer.drawOptions()
    options.clearBackground = False
    options.fillHighlights = True
    atoms = list(range(mol.GetNumAtoms()))
    rdMolDraw2D.PrepareAndDrawMolecule(
        drawer,
        mol,
        highlightAtoms=atoms,
        highlightAtomColors={i: colour(scaled[i]) for i in atoms},
        highlightAtomRadii={i: 0.25 + 0.3 * scaled[i] for i in atoms},
        highlightBonds=[],
    )
    drawer.FinishDrawing()
    body = _strip_xml_header(drawer.GetDrawingText()).replace("<svg ", '<svg x="0" y="0" ', 1)
    stops = "".join(f'<stop offset="{i / (len(_STOPS) - 1):.2f}" stop-color="{hex_colour(i / (len(_STOPS) - 1))}"/>' for i in range(len(_STOPS)))
    bar_y, bar_w = height + 8, width - 80
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 44}" viewBox="0 0 {width} {height + 44}">'
        f'<rect width="100%" height="100%" fill="white"/>{body}'
        f'<defs><linearGradient id="attention-scale">{stops}</linearGradient></defs>'
        f'<rect x="40" y="{bar_y}" width="{bar_w}" height="12" fill="url(#attention-scale)" stroke="#888" stroke-width="0.5"/>'
        f'<text x="40" y="{bar_y + 27}" font-size="11" font-family="sans-serif" fill="#333">0</text>'
        f'<text x="{40 + bar_w}" y="{bar_y + 27}" font-size="11" font-family="sans-serif" fill="#333" text-anchor="end">{top:.3f}</text>'
        f'<text x="{width / 2}" y="{bar_y + 27}" font-size="11" font-family="sans-serif" fill="#333" text-anchor="middle">{label}</text>'
        "</svg>"
    )


def _rgb(hex_code: str) -> tuple[float, float, float]:
    return tuple(int(hex_code[i : i + 2], 16) / 255 for i in (1, 3, 5))


def faded(hex_code: str, strength: float) -> tuple[float, float, float]:
    """The colour mixed with white: full at strength 1, pale at 0 (the soft assignment)."""
    mix = 0.25 + 0.75 * float(np.clip(strength, 0, 1))
    return tuple(mix * c + (1 - mix) for c in _rgb(hex_code))


def cluster_colours(cluster_of_atom: np.ndarray) -> dict[int, str]:
    """Cluster id → palette colour, in order of the clusters' first atoms."""
    return {int(c): CLUSTER_PALETTE[i % len(CLUSTER_PALETTE)] for i, c in enumerate(dict.fromkeys(cluster_of_atom.tolist()))}


def clusters_svg(mol: Chem.Mol, assignment: np.ndarray, width: int = 420, height: int = 300) -> str:
    """The molecule with each atom (and each bond inside one cluster) coloured by its
    cluster (argmax of the soft assignment [N, K]); paler where the atom's assignment is
    weaker. Atom indices are drawn so the cluster table can be read against the picture."""
    owner = assignment.argmax(1)
    strength = assignment.max(1)
    colours = cluster_colours(owner)
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    options = drawer.drawOptions()
    options.clearBackground = False
    options.fillHighlights = True
    options.addAtomIndices = True
    atoms = list(range(mol.GetNumAtoms()))
    bonds = [b for b in mol.GetBonds() if owner[b.GetBeginAtomIdx()] == owner[b.GetEndAtomIdx()]]
    rdMolDraw2D.PrepareAndDrawMolecule(
        drawer,
        mol,
        highlightAtoms=atoms,
        highlightAtomColors={i: faded(colours[int(owner[i])], strength[i]) for i in atoms},
        highlightAtomRadii={i: 0.4 for i in atoms},
        highlightBonds=[b.GetIdx() for b in bonds],
        highlightBondColors={b.GetIdx(): faded(colours[int(owner[b.GetBeginAtomIdx()])], 1.0) for b in bonds},
    )
    drawer.FinishDrawing()
    return _strip_xml_header(drawer.GetDrawingText())


CONFORMER_SECONDS = 5.0  # per molecule; a page waits this long at most for its 3D view


class Conformer(NamedTuple):
    """A 3D conformer's molblock, or "" and why there is none (`skipped`)."""

    molblock: str
    skipped: str = ""


def _embedded_molblock(canonical_smiles: str, seconds: float) -> str:
    """ETKDG (fixed seed, bounded attempts), MMFF-relaxed when at least half the time is
    left, explicit hydrogens after the heavy atoms so heavy atom i keeps index i; "" if
    embedding fails."""
    start = time.monotonic()
    mol = Chem.AddHs(Chem.MolFromSmiles(canonical_smiles))
    params = AllChem.ETKDGv3()
    params.randomSeed = 0xF00D
    params.maxIterations = 200
    params.timeout = max(1, int(seconds))  # RDKit checks it between stages only: the caller enforces the limit
    if AllChem.EmbedMolecule(mol, params) != 0:
        return ""
    if time.monotonic() - start < seconds / 2:
        try:
            AllChem.MMFFOptimizeMolecule(mol, maxIters=200)
        except Exception:  # noqa: BLE001 - no MMFF parameters: keep the ETKDG geometry
            pass
    return Chem.MolToMolBlock(mol)


def _send_molblock(canonical_smiles: str, seconds: float, connection: Connection) -> None:
    connection.send("started")  # the clock starts here: starting the process is not the molecule's time
    connection.send(_embedded_molblock(canonical_smiles, seconds))
    connection.close()


@functools.lru_cache(maxsize=64)
def conformer(canonical_smiles: str, seconds: float = CONFORMER_SECONDS) -> Conformer:
    """A 3D conformer computed within `seconds`. Embedding runs in a process of its own that
    is stopped at the limit: one attempt at a large macrocycle can run for minutes whatever
    RDKit's own timeout says, and a page must not hang on it."""
    context = server_safe_context()
    receive, send = context.Pipe(duplex=False)
    worker = context.Process(target=_send_molblock, args=(canonical_smiles, seconds, send), daemon=True)
    worker.start()
    send.close()
    try:
        receive.recv()
        if not receive.poll(seconds):
            return Conformer("", f"3D view skipped: took longer than {seconds:g} s")
        molblock = receive.recv()
    except EOFError:  # the worker died (out of memory, a crash in RDKit)
        molblock = ""
    finally:
        worker.kill()
        worker.join()
        receive.close()
    return Conformer(molblock, "" if molblock else "RDKit could not embed a 3D conformer for this molecule")


def three_dmol_url(root: Path) -> str:
    """Local copy of 3Dmol.js when set-up installed it (works offline), else the CDN."""
    return "/" + THREE_DMOL_LOCAL if (root / "static" / "3Dmol-min.js").exists() else THREE_DMOL_CDN


def attention_spheres(weights: np.ndarray) -> list[dict]:
    """3D sphere style per heavy atom, coloured and sized by weight (scaled to the largest)."""
    weights = np.asarray(weights, dtype=float)
    scaled = weights / (weights.max() if weights.size and weights.max() > 0 else 1.0)
    return [{"radius": round(0.25 + 0.45 * value, 3), "color": hex_colour(value), "opacity": 0.85} for value in scaled]


def cluster_spheres(assignment: np.ndarray) -> list[dict]:
    """3D sphere style per heavy atom in its cluster's colour (as `clusters_svg`), more
    opaque where the assignment is stronger."""
    owner = assignment.argmax(1)
    colours = cluster_colours(owner)
    return [{"radius": 0.5, "color": colours[int(k)], "opacity": round(0.35 + 0.6 * float(s), 3)} for k, s in zip(owner, assignment.max(1))]


def viewer_html(molblock: str, spheres: list[dict], js_url: str, width: int = 460, height: int = 340) -> str:
    """py3Dmol viewer: sticks, plus a sphere per heavy atom in the given style."""
    import py3Dmol

    view = py3Dmol.view(width=width, height=height, js=js_url)
    view.addModel(molblock, "mol")
    view.setStyle({"stick": {"radius": 0.14, "colorscheme": "grayCarbon"}})
    for index, sphere in enumerate(spheres):
        view.addStyle({"index": index}, {"sphere": sphere})
    view.zoomTo()
    # 3Dmol.js loaded here, with its hash checked; the promise py3Dmol's own loader waits on
    # is then already there, so it loads nothing itself (its loader has no integrity check).
    loader = (f'<script src="{js_url}" integrity="{THREE_DMOL_INTEGRITY}" crossorigin="anonymous"></script>'
              "<script>var $3Dmolpromise = Promise.resolve();</script>")
    return f"<html><body style='margin:0'>{loader}{view._make_html()}</body></html>"


@functools.lru_cache(maxsize=8192)
def thumbnail_url(smiles: str, width: int = 160, height: int = 110) -> str:
    """A small depiction as an SVG data URL (for image columns of tables); '' if unparseable."""
    mol = Chem.MolFromSmiles(smiles) if smiles else None
    if mol is None:
        return ""
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    drawer.drawOptions().clearBackground = False
    rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol)
    drawer.FinishDrawing()
    return "data:image/svg+xml;base64," + base64.b64encode(drawer.GetDrawingText().encode()).decode()


def grid_svg(smiles: list[str], legends: list[str], per_row: int = 4, size: tuple[int, int] = (240, 190)) -> str:
    """Molecules in a grid with a legend under each (RDKit's grid drawer)."""
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    return Draw.MolsToGridImage(mols, molsPerRow=per_row, subImgSize=size, legends=legends, useSVG=True)
