"""GPT-2 BPE from jtokkit's r50k_base ranks, and Hugging Face's decode."""

import pytest

from dermcap_export.bpe import Tokenizer, caption_text


@pytest.fixture(scope="module")
def tok():
    return Tokenizer()


def test_known_gpt2_ids(tok):
    assert tok.encode("Hello world") == [15496, 995]
    assert tok.encode("1–3 words") == [16, 1906, 18, 2456]   # the en dash is 1906
    assert tok.encode(" ?") == [5633]
    assert tok.encode("<|endoftext|>") != [50256]            # ordinary text: no special tokens


def test_released_prompt_ids(tok):
    prompt = ("Describe the skin lesion concisely (morphology, color, scale, border, location) in one "
              "sentence.Conclude with the most likely diagnosis (1\u20133 words).")
    ids = tok.encode(prompt)
    assert len(ids) == 37 and ids[:5] == [24564, 4892, 262, 4168, 10287] and ids[-3:] == [18, 2456, 737]
    assert tok.decode(ids) == prompt


def test_decode_skips_eos_and_keeps_tokenization_spaces_like_transformers_4_56(tok):
    # clean_up_tokenization_spaces is False for gpt2-medium in 4.56.0: " ," and " n't" stay
    assert tok.decode(tok.encode("y is ?") + [50256]) == "y is ?"
    assert tok.decode(tok.encode("a nevus , it is n't")) == "a nevus , it is n't"


def test_decode_replaces_invalid_utf8(tok):
    han = tok.encode("漢")  # three byte tokens
    assert han == [162, 120, 95] and tok.decode(han) == "漢" and tok.decode(han[:2]) == "\ufffd"


def test_caption_text_drops_everything_through_the_first_prompt_and_strips(tok):
    ids = tok.encode("Note: Describe it. A brown  macule.\nDescribe it. Again\n")
    assert caption_text(tok, ids, "Describe it.", False) == "A brown  macule.\nDescribe it. Again"
    assert caption_text(tok, ids, "Describe it.", True) == "A brown macule. Describe it. Again"
    assert caption_text(tok, tok.encode("  no prompt here\t"), "Describe it.", False) == "no prompt here"


def test_missing_jar_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"cannot read GPT-2 ranks .* from .*nothing.jar"):
        Tokenizer(str(tmp_path / "nothing.jar"))
