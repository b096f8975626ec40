"""The settings diff of two runs names exactly what differs, and nothing else."""

from __future__ import annotations

from dataclasses import replace

from bpstudio.engine import FitConfig, Network
from bpstudio.session import DatasetRef, Session
from bpstudio.session.diff import diff_text, settings_diff


def _session_with(net_a: dict, fit_a: FitConfig, net_b: dict, fit_b: FitConfig, ds_b=None):
    s = Session()
    ds = DatasetRef.builtin("builtin:circles", {"n": 200})
    a = s.new_run(net_a, fit_a, dataset=ds)
    b = s.new_run(net_b, fit_b, dataset=ds_b if ds_b is not None else ds)
    return a, b


def test_same_settings_have_no_diff():
    cfg = Network([2, 8, 8, 1], activation="tanh").config()
    a, b = _session_with(cfg, FitConfig(lr=0.1), dict(cfg), FitConfig(lr=0.1))
    assert settings_diff(a, b) == []
    assert diff_text(a, b) == "same settings"


def test_alpha_and_one_layer_activation():
    base = Network([2, 8, 8, 8, 1], activation="tanh").config()
    other = dict(base, activations=["tanh", "relu", "tanh"])
    a, b = _session_with(base, FitConfig(lr=0.01), other, FitConfig(lr=0.1))
    assert diff_text(a, b) == "layer 3 tanh → relu; α 0.01 → 0.1"
    assert [c.key for c in settings_diff(a, b)] == ["net.activation.3", "fit.lr"]


def test_every_kind_of_difference_is_named_once():
    base = Network([2, 8, 8, 1], activation="tanh", init="xavier", seed=0).config()
    wide = dict(base, sizes=[2, 16, 8, 1], init="he_normal", seed=3)
    fa = FitConfig(lr=0.1, batch_size=10, optimizer="sgd", weight_decay=0.0)
    fb = replace(fa, batch_size=32, optimizer="adam", weight_decay=1e-3)
    other_data = DatasetRef.builtin("builtin:moons", {"n": 200})
    a, b = _session_with(base, fa, wide, fb, other_data)
    texts = [c.text for c in settings_diff(a, b)]
    assert texts == [
        "layer 2 width 8 → 16",
        "initialiser xavier_uniform → he_normal",
        "weight seed 0 → 3",
        "batch 10 → 32",
        "optimiser sgd → adam",
        "L2 0 → 0.001",
        "data circles (n=200) → moons (n=200)",
    ]


def test_different_depths_compare_the_shapes_whole():
    a_cfg = Network([2, 8, 8, 1], activation="tanh").config()
    b_cfg = Network([2, 8, 1], activation="tanh").config()
    a, b = _session_with(a_cfg, FitConfig(), b_cfg, FitConfig())
    assert diff_text(a, b) == "layers 2-8-8-1 → 2-8-1; activations tanh,tanh → tanh"
