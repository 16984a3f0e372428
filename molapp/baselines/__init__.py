"""Fingerprint baselines of the GraphMem paper: ECFP4 + SVM / random forest / gradient
boosting (one model per task) and a multi-task MLP, on the project's standardized
molecules and canonical splits, so their figures sit beside the graph models'; and a
random forest on the whole-molecule descriptors GraphMem can read (desc-rf)."""

from molapp.featurizers.fingerprints import ECFP_BITS, ECFP_RADIUS, ecfp, ecfp_of_smiles
from molapp.baselines.models import BASELINES, FEATURES, BaselineResult, Split3, fit_predict, score_tasks

__all__ = ["BASELINES", "FEATURES", "ECFP_BITS", "ECFP_RADIUS", "BaselineResult", "Split3", "ecfp", "ecfp_of_smiles", "fit_predict", "score_tasks"]
