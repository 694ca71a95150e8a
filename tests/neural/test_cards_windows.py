"""Model cards and the window plan: pure data and maths, no torch needed."""

from __future__ import annotations

import json

import pytest

from ainur_cli.engines.neural import cards
from ainur_cli.engines.neural.windows import batches, plan_windows, section_samples
from ainur_cli.errors import ModelError

SR, HOP, W, K, F = 16000, 128, 256, 32, 160


def test_both_cards_parse_and_describe_their_window():
    assert {"stable-audio-open-1.0", "unittest"} <= set(cards.list_cards())
    sao = cards.load_card("stable-audio-open-1.0")
    assert sao.sample_rate == 44100 and sao.audio_channels == 2 and sao.needs_weights
    t = sao.architecture["transformer"]
    hop = 2 * 4 * 4 * 8 * 8
    assert sao.max_window_s == pytest.approx(t["sample_size"] * hop / 44100)
    assert sao.architecture["scheduler"]["prediction_type"] == "v_prediction"
    assert sao.licence["name"] and "huggingface.co" in sao.obtain
    assert all(f.sha256 is None for f in sao.files) and "skip" in sao.checksum_note
    tiny = cards.load_card("unittest")
    assert tiny.source == "random-init" and not tiny.needs_weights
    assert tiny.architecture["tokenizer"]["model_max_length"] == 16


def test_card_errors_name_the_file_and_field(tmp_path):
    data = json.loads((cards.CARDS_DIR / "unittest.json").read_text())
    data["sample_rate"] = 22050  # the VAE still says 16000
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ModelError) as e:
        cards.load_card(str(bad))
    assert "bad.json" in str(e.value) and "sampling_rate" in str(e.value)
    del data["architecture"]
    bad.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="architecture"):
        cards.load_card(str(bad))
    bad.write_text("{ not json")
    with pytest.raises(ModelError, match="bad.json:1"):
        cards.load_card(str(bad))
    with pytest.raises(ModelError, match="unittest"):
        cards.load_card("no-such-model")


def test_incomplete_folder_names_every_missing_file(tmp_path):
    card = cards.load_card("stable-audio-open-1.0")
    folder = tmp_path / "stable-audio-open-1.0"
    for f in card.files[:6]:
        (folder / f.candidates()[0]).parent.mkdir(parents=True, exist_ok=True)
        (folder / f.candidates()[0]).write_bytes(b"")
    with pytest.raises(ModelError) as e:
        cards.check_folder(folder, card)
    msg = str(e.value)
    assert "text_encoder/model.safetensors" in msg and "tokenizer/tokenizer_config.json" in msg
    assert "tokenizer/tokenizer.json or tokenizer/spiece.model" in msg
    assert "vae/config.json" not in msg  # present
    with pytest.raises(ModelError, match="not found"):
        cards.check_folder(tmp_path / "nowhere", card)


def test_models_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("AINUR_MODELS_DIR", str(tmp_path / "env"))
    assert cards.resolve_models_dir(None) == tmp_path / "env"
    assert cards.resolve_models_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("AINUR_MODELS_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert cards.resolve_models_dir(None) == tmp_path / "xdg" / "ainur" / "models"
    card, folder = cards.resolve_model("stable-audio-open-1.0", tmp_path)
    assert folder == tmp_path / "stable-audio-open-1.0"


def _plan(sections_s, song_s, **kw):
    spans = section_samples(sections_s, song_s, SR, 512)
    return spans, plan_windows(spans, song_samples=round(song_s * SR), sample_rate=SR, hop=HOP,
                               window_frames=W, context_frames=K, crossfade_samples=F, **kw)


@pytest.mark.parametrize("continue_across", [True, False])
@pytest.mark.parametrize("fit", [False, True])
def test_window_plan_covers_each_section_exactly(continue_across, fit):
    secs = [(0.0, 1.3, "a"), (1.3, 6.05, "b"), (6.05, 6.5, "c"), (7.0, 9.123, "d")]
    spans, plan = _plan(secs, 9.5, continue_across_sections=continue_across, fit_window=fit)
    owner = {}
    for w in plan:
        assert w.frames <= W and w.start_sample >= 0
        assert w.own_start == w.start_sample + w.context_frames * HOP
        assert w.seconds_start == w.start_sample / SR and w.seconds_total == 9.5
        assert w.own_end - w.start_sample + (F if w.own_end < spans[w.section][1] else 0) \
            <= w.frames * HOP
        for s in range(w.own_start, w.own_end, 97):
            assert s not in owner
            owner[s] = w.section
        a, b, prompt = spans[w.section]
        assert a <= w.own_start < w.own_end <= b and w.prompt == prompt
    for i, (a, b, _) in enumerate(spans):
        first = [w for w in plan if w.section == i][0]
        assert first.own_start == a  # the boundary is exactly the section start
        covered = sum(w.own_end - w.own_start for w in plan if w.section == i)
        assert covered == b - a
    # section b (4.75 s) is longer than one 2.048 s window: several windows, each continuing
    b_windows = [w for w in plan if w.section == 1]
    assert len(b_windows) >= 3 and all(w.context_frames == K for w in b_windows[1:])
    d = [w for w in plan if w.section == 3][0]
    assert d.context_frames == 0 and d.fade_in == 0 and d.seconds_start == 7.0  # after a gap
    c = [w for w in plan if w.section == 2][0]
    if continue_across:
        assert c.context_frames == K and c.seconds_start == pytest.approx(6.05 - K * HOP / SR)
    else:
        assert c.context_frames == 0 and c.seconds_start == 6.05 and c.fade_in > 0


def test_section_validation():
    with pytest.raises(ModelError, match="overlap"):
        section_samples([(0, 2, "a"), (1.5, 3, "b")], 4, SR, 512)
    with pytest.raises(ModelError, match="outside"):
        section_samples([(0, 5, "a")], 4, SR, 512)
    with pytest.raises(ModelError, match="empty"):
        section_samples([(1, 1, "a")], 4, SR, 512)
    with pytest.raises(ModelError, match="song length"):
        section_samples([(0, 1, "a")], 600, SR, 512)
    with pytest.raises(ModelError, match="prompt"):
        section_samples([(0, 1, None)], 2, SR, 512)


def test_batches_only_group_fresh_windows_of_equal_length():
    _, plan = _plan([(0, 1, "a"), (1, 2, "b"), (2, 3, "c"), (3, 4, "d")], 4.0,
                    continue_across_sections=False)
    groups = batches(plan, 3)
    assert [len(g) for g in groups] == [3, 1]
    _, plan = _plan([(0, 1, "a"), (1, 2, "b")], 2.0, continue_across_sections=True)
    assert [len(g) for g in batches(plan, 4)] == [1, 1]  # the second continues the first
