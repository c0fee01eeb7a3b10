"""A recording rebuilds any step of its run byte for byte (as a training stopped at that step),
survives a save and load, and its file is checked like a model file: damaged or foreign files and
other training data are refused by name, never half-read."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import digitnet.replay as replay
from digitnet import Network
from digitnet.errors import ConfigError, DataError, ModelFileError
from digitnet.replay import Recording
from digitnet.stepper import Settings, Stepper

SETTINGS = Settings(epochs=3, batch_size=10, learning_rate=0.5, momentum=0.5)


def same_bytes(a: Network, b: Network) -> bool:
    return all(p.tobytes() == q.tobytes() for p, q in zip(a.W + a.b, b.W + b.b))


def stopped_at(k: int, X, y, settings=SETTINGS) -> Network:
    """A training of the same seed and settings stopped after k mini-batches."""
    net = Network((20, 8, 3), seed=9)
    Stepper(net, X, y, settings).run_to(k)
    return net


def record(X, y, every=7, settings=SETTINGS) -> Recording:
    stepper = Stepper(Network((20, 8, 3), seed=9), X, y, settings)
    rec = Recording.start(stepper, every=every)
    while not stepper.done:
        rec.run(stepper, 4)
        rec.add_point(stepper.step, cost=stepper.last_cost)
    return rec


@pytest.fixture(scope="module")
def saved(tmp_path_factory, blobs):
    rec = record(blobs["X"], blobs["y"])
    path = tmp_path_factory.mktemp("rec") / "run.npz"
    rec.save(path)
    return rec, path


@pytest.mark.parametrize("k", [0, 1, 6, 7, 8, 29, 30, 31, 64, 90])
def test_replay_at_step_k_is_a_training_stopped_at_step_k_byte_for_byte(saved, blobs, k):
    _, path = saved
    loaded = Recording.load(path)
    assert same_bytes(loaded.network_at(k, blobs["X"], blobs["y"]), stopped_at(k, blobs["X"], blobs["y"]))


def test_the_last_step_is_fits_network(saved, blobs):
    rec, _ = saved
    fitted = Network((20, 8, 3), seed=9)
    fitted.fit(blobs["X"], blobs["y"], epochs=3, batch_size=10, learning_rate=0.5, momentum=0.5)
    assert rec.step == 90
    assert same_bytes(rec.network_at(90, blobs["X"], blobs["y"]), fitted)


def test_a_replayed_stepper_goes_on_as_the_original_run(saved, blobs):
    rec, _ = saved
    resumed = rec.stepper_at(33, blobs["X"], blobs["y"])
    resumed.run_to(50)
    assert same_bytes(resumed.net, stopped_at(50, blobs["X"], blobs["y"]))


def test_save_then_load_keeps_everything(saved):
    rec, path = saved
    loaded = Recording.load(path)
    assert loaded.network == rec.network and loaded.settings == rec.settings and loaded.data == rec.data
    assert [s.step for s in loaded.snapshots] == [s.step for s in rec.snapshots]
    assert loaded.points == rec.points and loaded.every == 7
    for a, b in zip(loaded.snapshots, rec.snapshots):
        for p, q in zip(a.W + a.b + a.vW + a.vb, b.W + b.b + b.vW + b.vb):
            np.testing.assert_array_equal(p, q)
    with np.load(path, allow_pickle=False) as z:  # plain arrays: readable without pickle
        assert "s0_W0" in z.files and "s0_vW0" in z.files


def test_a_long_run_keeps_fewer_snapshots_and_still_replays_exactly(blobs, monkeypatch):
    monkeypatch.setattr(replay, "MAX_SNAPSHOTS", 5)
    rec = record(blobs["X"], blobs["y"], every=2, settings=Settings(epochs=3, batch_size=10))
    assert len(rec.snapshots) <= 6 and rec.every >= 16
    for k in (5, 47, 90):
        assert same_bytes(rec.network_at(k, blobs["X"], blobs["y"]),
                          stopped_at(k, blobs["X"], blobs["y"], Settings(epochs=3, batch_size=10)))


def test_other_training_data_is_refused(saved, blobs):
    rec, _ = saved
    X = blobs["X"].copy()
    X[0, 0] += 0.5
    with pytest.raises(DataError, match="not the 300"):
        rec.network_at(5, X, blobs["y"])
    with pytest.raises(ConfigError, match="step"):
        rec.network_at(91, blobs["X"], blobs["y"])


def test_the_datas_fingerprint_waits_for_a_save_or_a_replay_and_is_taken_once(blobs, tmp_path, monkeypatch):
    """Starting a recording reads none of the training images (a page's run starts at once, its caches
    warm); the fingerprint saved is the images' and labels' own, taken once, also when a replay on the
    very images recorded comes first."""
    hashed: list[int] = []
    real = replay.fingerprint
    monkeypatch.setattr(replay, "fingerprint", lambda X, y: hashed.append(len(X)) or real(X, y))
    X, y = blobs["X"], blobs["y"]
    rec = record(X, y)
    assert hashed == []
    assert same_bytes(rec.network_at(12, X, y), stopped_at(12, X, y))
    rec.save(tmp_path / "run.npz")
    assert hashed == [len(X)]
    assert Recording.load(tmp_path / "run.npz").data == {"images": len(X), "sha256": real(X, y)}


def test_other_training_data_is_refused_before_the_fingerprint_was_taken(blobs):
    rec = record(blobs["X"], blobs["y"])
    X = blobs["X"].copy()
    X[0, 0] += 0.5
    with pytest.raises(DataError, match="not the 300"):
        rec.network_at(5, X, blobs["y"])
    assert same_bytes(rec.network_at(5, blobs["X"], blobs["y"]), stopped_at(5, blobs["X"], blobs["y"]))


def rewrite(path, out, change):
    """Copy the recording at ``path`` to ``out`` with its header changed by ``change(header)``."""
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "header.json":
                header = json.loads(data)
                change(header)
                data = json.dumps(header).encode()
            zout.writestr(item, data)


@pytest.mark.parametrize("change,match", [
    (lambda h: h.update(version=2), "version 2"),
    (lambda h: h["snapshots"][1].update(step=-1), "snapshot steps"),
    (lambda h: h["snapshots"][0].update(rng_state={"bit_generator": "nope"}), "random state"),
    (lambda h: h.update(step=10**9), "step counts"),
    (lambda h: h["settings"].update(learning_rate=-1), "learning rate"),
    (lambda h: h["network"].update(sizes=[20, 9, 3]), "s0_W0"),
    (lambda h: h["points"].append({"step": "x"}), "curve points"),
    (lambda h: h.update(format="digitnet-model"), "not a digitnet recording"),
])
def test_damaged_headers_are_refused_by_name(saved, tmp_path, change, match):
    _, path = saved
    out = tmp_path / "bad.npz"
    rewrite(path, out, change)
    with pytest.raises(ModelFileError, match=match):
        Recording.load(out)


def test_model_files_truncated_files_and_missing_files_are_not_recordings(saved, tmp_path, blobs):
    _, path = saved
    model = tmp_path / "model.npz"
    Network((20, 8, 3), seed=0).save(model)
    with pytest.raises(ModelFileError, match="not a digitnet recording"):
        Recording.load(model)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ModelFileError, match="cut.npz"):
        Recording.load(cut)
    with pytest.raises(ModelFileError, match="does not exist"):
        Recording.load(tmp_path / "none.npz")
