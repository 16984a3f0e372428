"""`python -m molapp.cli.pretrain`: pretrain GraphMem's encoder on the unlabelled molecules of
datasets (`molapp.training.pretrain`: predict all of RDKit's descriptors), for
`python -m molapp.train --init-encoder OUT`.

    python -m molapp.cli.pretrain --out bench/work/pretrain/graphmem-encoder \\
        --datasets tox21,hiv,bace,bbbp,clintox,sider,esol,freesolv,lipophilicity,nci60_balanced \\
        --hold-out tox21:scaffold --epochs 10 --threads 1

Every distinct standardized molecule of the datasets is used once, labels never. `--hold-out
DATASET:SPLIT` leaves out the validation and test molecules of that canonical split, so a
model fine-tuned and chosen there has not seen them even unlabelled. Killed, the same
command carries on from its last finished epoch.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from molapp.data.dataset import load_dataset
from molapp.featurizers.descriptors import ALL_RDKIT_DESCRIPTORS_VERSION
from molapp.featurizers.graph import FEATURIZER_VERSION
from molapp.inference.predictor import resolve_device
from molapp.models.encoder import EncoderCard, save_encoder
from molapp.training.pretrain import PretrainConfig, pretrain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m molapp.cli.pretrain", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder for encoder.safetensors, encoder.json and the run's saved state")
    parser.add_argument("--datasets", required=True, help="comma-separated dataset names whose molecules are pretrained on")
    parser.add_argument("--hold-out", default="", help="comma-separated DATASET:SPLIT whose valid and test molecules are left out")
    parser.add_argument("--data-dir", default=None, help="folder with the dataset files (default: $MOLAPP_DATA)")
    defaults = PretrainConfig()
    for name, value in vars(defaults).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--workers", type=int, default=1, help="processes for featurization")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.threads:
        torch.set_num_threads(args.threads)
    config = PretrainConfig(**{name: getattr(args, name) for name in vars(defaults)})
    try:
        device = resolve_device(args.device)
        excluded: set[str] = set()
        for item in filter(None, (part.strip() for part in args.hold_out.split(","))):
            name, _, split = item.partition(":")
            parts = load_dataset(name, args.data_dir, workers=args.workers).split(split or "scaffold", args.data_dir)
            excluded |= {m.canonical_smiles for part in (parts.valid, parts.test) for m in part.molecules}
        graphs, seen, sources = [], set(), []
        for name in filter(None, (part.strip() for part in args.datasets.split(","))):
            data = load_dataset(name, args.data_dir, workers=args.workers, descriptors=ALL_RDKIT_DESCRIPTORS_VERSION)
            new = [m for m in data.molecules if m.ok and m.canonical_smiles not in seen and m.canonical_smiles not in excluded]
            seen |= {m.canonical_smiles for m in new}
            graphs += [m.graph for m in new]
            sources.append({"dataset": name, "molecules": len(new)})
            print(f"{name}: {len(new)} new molecules ({len(graphs)} in all)", file=sys.stderr)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if len(graphs) < 2:
        parser.error("fewer than two molecules to pretrain on")
    out = Path(args.out)
    encoder, history = pretrain(graphs, config, device, out)
    command = "python -m molapp.cli.pretrain " + " ".join(argv if argv is not None else sys.argv[1:])
    held_out = int(round(config.held_out * len(graphs)))
    card = EncoderCard(config=encoder.config.to_dict(), featurizer=FEATURIZER_VERSION, targets=f"{ALL_RDKIT_DESCRIPTORS_VERSION}, log-scaled",
                       molecules=len(graphs) - held_out, held_out=held_out, pretraining=vars(config), history=history,
                       sources=sources + [{"held_out_splits": args.hold_out, "molecules_left_out": len(excluded)}],
                       command=command, train_seconds=round(time.perf_counter() - start, 1))
    save_encoder(out, encoder, card)
    print(f"wrote {out}: encoder pretrained on {card.molecules} molecules, held-out loss {history[-1]['held_out_loss']:.4f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
