"""The reference generator on hand-checked cases, with a scripted language model whose next-token
distribution is a function of the prompt and the generated tokens (GENERATION.md)."""

import math

import pytest
import torch

from dermcap_export.generate import Settings, ban_bad_words, beam_search, generate, greedy, process_scores

EOS = 3  # vocabulary 0, 1, 2 and EOS in most cases below


class ScriptedLM:
    """The 'embedding' of token t is [t]; the 'cache' is the token history. next_logits(prompt,
    generated) returns the logits of the next token."""

    def __init__(self, vocab, next_logits, prompt_len):
        self.vocab_size, self.next_logits, self.prompt_len, self.calls = vocab, next_logits, prompt_len, 0

    def embed(self, ids):
        return ids.float()[..., None]

    def empty_past(self, n):
        return [torch.zeros(n, 0)]

    def __call__(self, inputs_embeds, attention_mask, position_ids, past):
        self.calls += 1
        history = torch.cat([past[0], inputs_embeds[..., 0]], dim=1)
        assert attention_mask.shape == history.shape and bool((attention_mask == 1).all())
        assert position_ids[0].tolist() == list(range(history.shape[1] - inputs_embeds.shape[1], history.shape[1]))
        rows = [[int(t) for t in row] for row in history]
        logits = [self.next_logits(tuple(r[:self.prompt_len]), tuple(r[self.prompt_len:])) for r in rows]
        return torch.tensor(logits, dtype=torch.float32)[:, None, :], [history]


def run(fn, settings, prompts=((0,),), vocab=4):
    lm = ScriptedLM(vocab, fn, len(prompts[0]))
    out = generate(lm, torch.tensor(prompts, dtype=torch.float32)[..., None], settings)
    return out, lm


def probs(*p):
    return [math.log(x) for x in p]


PLAIN = dict(num_beams=1, min_new_tokens=0, no_repeat_ngram_size=0, repetition_penalty=1.0,
             eos_token_id=EOS, pad_token_id=EOS)


def test_no_repeat_ngram_bans_the_token_that_completes_a_seen_ngram():
    # vocabulary 0..3, EOS 4. After 1 the model prefers 2, otherwise 1.
    def fn(prompt, g):
        return [0.5, 0, 5, 1, -10] if g and g[-1] == 1 else [0, 5, 0, 1, -10]

    settings = Settings(**{**PLAIN, "no_repeat_ngram_size": 2, "max_new_tokens": 6, "eos_token_id": 4, "pad_token_id": 4})
    (out,), _ = run(fn, settings, vocab=5)
    # 1 2 1, then (1,2) is banned → 3; 1; then (1,2) and (1,3) are banned → 0 (0.5 beats 1's 0)
    assert out.token_ids == [1, 2, 1, 3, 1, 0]
    assert out.min_margin == pytest.approx(0.5)  # steps 4 and 6: 1 − 0.5 and 0.5 − 0


def test_min_new_tokens_suppresses_eos_until_reached():
    def fn(prompt, g):
        return [0, 2, 0.5, 3]  # EOS is always the model's first choice

    (out,), _ = run(fn, Settings(**{**PLAIN, "min_new_tokens": 3, "max_new_tokens": 10}))
    assert out.token_ids == [1, 1, 1, EOS]
    (beam,), _ = run(fn, Settings(**{**PLAIN, "num_beams": 2, "min_new_tokens": 3, "max_new_tokens": 10}))
    assert beam.token_ids[-1] == EOS and len(beam.token_ids) == 4 and EOS not in beam.token_ids[:-1]


def test_repetition_penalty_divides_positive_and_multiplies_negative_raw_logits():
    def fn(prompt, g):
        if len(g) < 2:
            return [0, 2.0, 1.8, -10]        # 1 first; then 1 is seen: 2.0 / 1.15 = 1.739 < 1.8 → 2
        return [-5, -1.0, -3, -1.1, -10]     # 1 is seen: −1.0 · 1.15 = −1.15 < −1.1 → 3

    settings = Settings(**{**PLAIN, "repetition_penalty": 1.15, "max_new_tokens": 3, "eos_token_id": 4, "pad_token_id": 4})
    (out,), _ = run(fn, settings, vocab=5)
    assert out.token_ids == [1, 2, 3]


def test_repetition_penalty_applies_once_per_distinct_token():
    s = Settings(**{**PLAIN, "repetition_penalty": 1.15})
    scores = process_scores(torch.tensor([[0.0, 2.0, -1.0, 0.5]]), torch.tensor([[1, 1, 2, 1]]), s)
    assert scores.tolist() == [[0.0, pytest.approx(2.0 / 1.15), pytest.approx(-1.15), 0.5]]


def test_repetition_penalty_on_log_probs_keeps_what_it_removes_from_raw_logits():
    """Same logits, seen token 1: greedy (raw logits, divided) switches to 2; beam search
    (log-probs, multiplied) keeps 1 on top."""
    s = Settings(**{**PLAIN, "repetition_penalty": 1.15})
    logits, seen = torch.tensor([[0.0, 2.0, 1.8, -10.0]]), torch.tensor([[1]])
    assert process_scores(logits, seen, s).argmax().item() == 2
    log_probs = torch.log_softmax(logits, dim=-1)
    penalised = process_scores(log_probs, seen, s)
    assert penalised[0, 1].item() == pytest.approx(log_probs[0, 1].item() * 1.15)
    assert penalised.argmax().item() == 1


def test_processors_see_generated_tokens_only_not_the_prompt():
    def fn(prompt, g):
        assert prompt == (1, 2)
        if not g:
            return [0, 1.8, 2.0, -10]    # 2 is in the prompt; unpenalised it wins
        return [0, 0, 5, -10] if g[-1] == 1 else [0, 5, 0, -10]

    settings = Settings(**{**PLAIN, "repetition_penalty": 1.15, "no_repeat_ngram_size": 2, "max_new_tokens": 3})
    (out,), _ = run(fn, settings, prompts=((1, 2),))
    assert out.token_ids == [2, 1, 2]  # (1, 2) occurs in the prompt, yet 1 → 2 is allowed


# A tree for beam search, two beams, max 3 new tokens: S = [1, EOS] finishes at step 2 with
# log-prob sum −1.0; L = [2, 2, EOS] finishes at step 3 with sum −1.39.
def tree(prompt, g):
    table = {
        (): probs(0.006, 0.6, 0.386, 0.008),
        (1,): probs(0.377, 0.006, 0.004, 0.613),
        (2,): probs(0.05, 0.03, 0.9, 0.02),
        (2, 2): probs(0.2, 0.05, 0.022, 0.728),
        (1, 0): probs(0.3, 0.1, 0.1, 0.5),
    }
    return table.get(g, probs(0.25, 0.25, 0.25, 0.25))


BEAM = dict(num_beams=2, max_new_tokens=3, min_new_tokens=0, no_repeat_ngram_size=0, repetition_penalty=1.0,
            early_stopping=True, eos_token_id=EOS, pad_token_id=EOS)


@pytest.mark.parametrize("length_penalty, expected", [
    (0.6, [1, EOS]),      # S: −1.0 / 2^0.6 = −0.660 beats L: −1.39 / 3^0.6 = −0.719
    (1.0, [2, 2, EOS]),   # S: −1.0 / 2 = −0.5 loses to L: −1.39 / 3 = −0.463
    (0.0, [1, EOS]),      # raw sums: −1.0 beats −1.39
])
def test_length_normalisation_decides_between_finished_beams(length_penalty, expected):
    (out,), _ = run(tree, Settings(**BEAM, length_penalty=length_penalty))
    assert out.token_ids == expected


def test_early_stopping_true_ends_when_all_beams_have_finished():
    # Step 1 finishes [EOS] (−0.916); step 2 finishes [1, EOS] (−1.338 / 2 = −0.669): two
    # hypotheses, so early stopping ends the search although the running [2, 2] (−1.532 / 2 =
    # −0.766 > −0.916) could still improve; searching on ("never") finds [2, 2, EOS]
    # (−1.542 / 3 = −0.514).
    def fn(prompt, g):
        table = {(): probs(0.01, 0.35, 0.24, 0.4), (1,): probs(0.24, 0.005, 0.005, 0.75),
                 (2,): probs(0.05, 0.03, 0.9, 0.02), (2, 2): probs(0.004, 0.003, 0.003, 0.99),
                 (1, 0): probs(0.2, 0.2, 0.1, 0.5)}
        return table.get(g, probs(0.25, 0.25, 0.25, 0.25))

    settings = dict(BEAM, max_new_tokens=6, length_penalty=1.0)
    (stopped,), lm = run(fn, Settings(**settings))
    assert stopped.token_ids == [1, EOS] and lm.calls == 2
    (searched,), lm = run(fn, Settings(**{**settings, "early_stopping": "never"}))
    assert searched.token_ids == [2, 2, EOS] and lm.calls == 3


def test_batch_items_do_not_influence_each_other():
    def fn(prompt, g):
        return tree(prompt, g) if prompt == (0,) else tree(prompt, tuple(3 - t if t < 3 else t for t in g))

    settings = Settings(**BEAM, length_penalty=0.6)
    together, _ = run(fn, settings, prompts=((0,), (1,)))
    alone = [run(fn, settings, prompts=(p,))[0][0] for p in ((0,), (1,))]
    assert [g.token_ids for g in together] == [g.token_ids for g in alone]


def test_beam_search_ends_at_the_length_limit():
    def fn(prompt, g):
        return [1.0, 0.5, 0.0, -20.0]  # EOS never wins

    (out,), _ = run(fn, Settings(**{**BEAM, "max_new_tokens": 5, "length_penalty": 0.6}))
    assert len(out.token_ids) == 5 and EOS not in out.token_ids


def test_greedy_pads_rows_that_finished():
    def fn(prompt, g):
        if prompt == (0,):
            return [0, 1, 0, 2]     # EOS at once
        return [0, 2, 0, 1]

    out, _ = run(fn, Settings(**{**PLAIN, "max_new_tokens": 3}), prompts=((0,), (1,)))
    assert [g.token_ids for g in out] == [[EOS], [1, 1, 1]]


def test_greedy_and_beam_search_are_chosen_by_num_beams():
    lm = ScriptedLM(4, tree, 1)
    inputs = torch.zeros(1, 1, 1)
    assert generate(lm, inputs, Settings(**BEAM, length_penalty=1.0))[0].token_ids == \
        beam_search(lm, inputs, Settings(**BEAM, length_penalty=1.0))[0].token_ids
    assert generate(lm, inputs, Settings(**PLAIN, max_new_tokens=3))[0].token_ids == \
        greedy(lm, inputs, Settings(**PLAIN, max_new_tokens=3))[0].token_ids


@pytest.mark.parametrize("bad, message", [
    (dict(num_beams=0), "num_beams must be >= 1"),
    (dict(max_new_tokens=0, min_new_tokens=0), "max_new_tokens must be >= 1"),
    (dict(min_new_tokens=70), "min_new_tokens must be in 0..max_new_tokens"),
    (dict(repetition_penalty=0.0), "repetition_penalty must be > 0"),
    (dict(early_stopping="sometimes"), "early_stopping must be"),
])
def test_invalid_settings_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        Settings(**bad)


def test_bad_words_ban_single_tokens_always_and_sequences_only_after_their_prefix():
    scores = torch.zeros(2, 6)
    generated = torch.tensor([[1, 2, 4], [2, 4, 1]])
    out = ban_bad_words(scores, generated, ((5,), (2, 4, 3), (1, 0)), eos_token_id=EOS)
    assert out[0].tolist() == [0, 0, 0, -math.inf, 0, -math.inf]         # 5 always; 3: row 0 ends with 2, 4
    assert out[1].tolist() == [-math.inf, 0, 0, 0, 0, -math.inf]         # 0: row 1 ends with 1
    assert ban_bad_words(scores, torch.tensor([[2, 4]]), ((2, 4, 3),), EOS)[0, 3] == 0  # shorter than the sequence
    assert ban_bad_words(scores, torch.tensor([[0, 2, 4]]), ((2, 4, 3),), EOS)[0, 3] == -math.inf


def test_a_bad_word_that_is_only_eos_is_dropped_as_hugging_face_drops_it():
    out = ban_bad_words(torch.zeros(1, 4), torch.zeros(1, 0, dtype=torch.long), ((EOS,), (1,)), EOS)
    assert out[0].tolist() == [0, -math.inf, 0, 0]


def test_bad_words_come_after_no_repeat_ngram_and_before_min_new_tokens():
    """A banned token is -inf whatever the other processors did to it; min_new_tokens still bans EOS."""
    s = Settings(**{**PLAIN, "repetition_penalty": 1.15, "min_new_tokens": 5, "bad_words_ids": ((1,),)})
    out = process_scores(torch.tensor([[1.0, 2.0, 3.0, 4.0]]), torch.tensor([[1, 2]]), s)
    assert out[0].tolist() == [1.0, -math.inf, pytest.approx(3.0 / 1.15), -math.inf]


def test_generation_avoids_a_banned_sequence_once_as_many_ids_as_it_has_were_generated():
    """4.56.0 skips a sequence longer than the context: (1, 2) is not banned at the 2nd token
    (one id generated), only from the 3rd on."""
    def fn(prompt, g):
        return [0, 5, 4, 1] if not g or g[-1] != 1 else [3, 0, 4, 1]  # after 1 the model wants 2, then 0

    (free,), _ = run(fn, Settings(**{**PLAIN, "max_new_tokens": 4}))
    (banned,), _ = run(fn, Settings(**{**PLAIN, "max_new_tokens": 4, "bad_words_ids": ((1, 2),)}))
    assert free.token_ids == [1, 2, 1, 2] and banned.token_ids == [1, 2, 1, 0]
