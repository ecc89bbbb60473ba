"""The torch reference command the Java benchmark runs: it rebuilds the bundle's weights and gives
the fixtures' captions, batched or not."""

import json
import os

from conftest import PARITY, TINY_BUNDLE
from dermcap_export import __main__ as cli

with open(os.path.join(PARITY, "cases.json")) as f:
    CASES = {c["id"]: c for c in json.load(f)["cases"]}


def run(capsys, *args):
    code = cli.main(["reference", "--bundle", TINY_BUNDLE, *args])
    out = capsys.readouterr()
    return code, out


def generation(case_id, name):
    return next(g for g in CASES[case_id]["generations"] if g["name"] == name)


def images(*ids):
    return [os.path.join(PARITY, CASES[i]["image"]) for i in ids]


def test_greedy_batch_gives_the_fixture_captions(capsys):
    ids = ("rgb-dermoscopy", "cmyk", "gray16")
    code, out = run(capsys, "--decoding", "greedy", "--batch-size", "2", *images(*ids))
    assert code == 0, out.err
    report = json.loads(out.out)
    for image, case_id in zip(report["images"], ids):
        greedy = generation(case_id, "published/greedy")  # the bundle's default profile
        assert (image["token_ids"], image["text"]) == (greedy["token_ids"], greedy["text"])
    totals = report["totals"]
    assert totals["images"] == 3 and report["batch_size"] == 2 and report["settings"]["num_beams"] == 1
    assert totals["vision_seconds"] > 0 and totals["generation_seconds"] > 0
    busy = totals["preprocess_seconds"] + totals["vision_seconds"] + totals["generation_seconds"]
    assert abs(totals["images_per_second"] - 3 / busy) < 1e-9


def test_beam_gives_the_fixture_caption(capsys):
    code, out = run(capsys, *images("very-wide", "rgb"), "--batch-size", "2")
    assert code == 0, out.err
    report = json.loads(out.out)
    assert [i["token_ids"] for i in report["images"]] == [
        generation("very-wide", "published/beam")["token_ids"], generation("rgb", "published/beam")["token_ids"]]
    assert report["settings"]["num_beams"] == 4 and report["decoding"] == "beam" and report["profile"] == "published"


def test_a_named_profile_gives_its_fixture_caption(capsys):
    code, out = run(capsys, "--profile", "card", *images("rgb"))
    assert code == 0, out.err
    report = json.loads(out.out)
    expected = generation("rgb", "card/beam")
    assert (report["images"][0]["token_ids"], report["images"][0]["text"]) == (expected["token_ids"], expected["text"])
    code, out = run(capsys, "--profile", "nope", *images("rgb"))
    assert code == 2 and "no generation profile 'nope'; it has card, training-eval, published" in out.err


def test_bad_arguments(capsys, tmp_path):
    code, out = run(capsys, str(tmp_path / "missing.png"))
    assert code == 2 and "no such image files" in out.err
    code, out = run(capsys, "--checkpoint", "x.pt", *images("rgb"))
    assert code == 2 and "random weights rebuilt from its manifest" in out.err
    code, out = run(capsys, "--batch-size", "0", *images("rgb"))
    assert code == 2 and "--batch-size must be >= 1" in out.err
    code, out = run(capsys, "--min-new-tokens", "99", *images("rgb"))
    assert code == 2 and "min_new_tokens must be in 0..max_new_tokens" in out.err
    code, out = run(capsys, "--max-new-tokens", "1000", *images("rgb"))
    assert code == 2 and "prefix + prompt + max_new_tokens = 1069 positions; GPT-2 has 1024" in out.err
