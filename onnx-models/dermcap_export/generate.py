"""Reference decoding with Hugging Face `generate` semantics (transformers 4.56.0, the author's pin;
see GENERATION.md for the code read and every rule below), over any language model with this interface:

    lm.embed(input_ids [N, S]) -> [N, S, D]
    lm.empty_past(N) -> list of cache tensors, batch first
    lm(inputs_embeds [N, S, D], attention_mask [N, total], position_ids [N, S], past)
        -> (logits [N, 1, V], past grown by S positions)

Generation starts from `inputs_embeds` (prefix ; prompt embeddings) with no input ids, so the
logits processors and stopping criteria see the generated tokens only.
"""

import math
from dataclasses import dataclass, replace

import torch

NEG_INF_SCORE = -1.0e9  # Hugging Face's "never pick this" offset in beam bookkeeping


@dataclass(frozen=True)
class Settings:
    num_beams: int = 4
    max_new_tokens: int = 60
    min_new_tokens: int = 24
    no_repeat_ngram_size: int = 4
    repetition_penalty: float = 1.15
    length_penalty: float = 0.6
    early_stopping: object = True  # True, False or "never", as in Hugging Face
    eos_token_id: int = 50256
    pad_token_id: int = 50256
    bad_words_ids: tuple = ()      # token-id sequences never to complete (NoBadWordsLogitsProcessor)

    def __post_init__(self):
        problems = []
        if self.num_beams < 1:
            problems.append(f"num_beams must be >= 1, not {self.num_beams}")
        if self.max_new_tokens < 1:
            problems.append(f"max_new_tokens must be >= 1, not {self.max_new_tokens}")
        if not 0 <= self.min_new_tokens <= self.max_new_tokens:
            problems.append(f"min_new_tokens must be in 0..max_new_tokens, not {self.min_new_tokens}")
        if self.no_repeat_ngram_size < 0:
            problems.append(f"no_repeat_ngram_size must be >= 0, not {self.no_repeat_ngram_size}")
        if not self.repetition_penalty > 0:
            problems.append(f"repetition_penalty must be > 0, not {self.repetition_penalty}")
        if self.early_stopping not in (True, False, "never"):
            problems.append(f"early_stopping must be true, false or \"never\", not {self.early_stopping!r}")
        if any(not seq or any(not isinstance(t, int) or t < 0 for t in seq) for seq in self.bad_words_ids):
            problems.append(f"bad_words_ids must be non-empty sequences of token ids, not {self.bad_words_ids!r}")
        if problems:
            raise ValueError("; ".join(problems))


RELEASED = Settings()                      # the released model's settings
GREEDY = replace(RELEASED, num_beams=1)    # the same processors, one beam


@dataclass
class Generation:
    token_ids: list      # generated ids, ending with EOS when the caption ended on its own
    min_margin: float    # smallest gap at any decision that chose this output (see GENERATION.md)


def ban_bad_words(scores, generated, bad_words_ids, eos_token_id):
    """NoBadWordsLogitsProcessor (a SequenceBiasLogitsProcessor with bias -inf): a one-token
    sequence is always banned; a longer one bans its last token when the generated ids end with the
    rest of it, and is skipped while fewer ids than the whole sequence's length have been generated
    (4.56.0 compares the sequence's full length with the context's). Sequences equal to [eos] are
    dropped, as the processor's constructor drops them."""
    sequences = [list(q) for q in bad_words_ids if list(q) != [eos_token_id]]
    if not sequences:
        return scores
    scores = scores.clone()
    length = generated.shape[1]
    for row, ids in enumerate(generated.tolist()):
        for seq in sequences:
            if len(seq) == 1 or (len(seq) <= length and ids[length - len(seq) + 1:] == seq[:-1]):
                scores[row, seq[-1]] = -math.inf
    return scores


def process_scores(scores, generated, s: Settings):
    """Hugging Face's logits processors for these settings, in _get_logits_processor's order:
    repetition penalty, no-repeat n-gram, bad words, min length / min new tokens (identical here:
    no input ids)."""
    if s.repetition_penalty != 1.0 and generated.shape[1] > 0:
        seen = scores.gather(1, generated)
        seen = torch.where(seen < 0, seen * s.repetition_penalty, seen / s.repetition_penalty)
        scores = scores.scatter(1, generated, seen)  # each distinct token penalised once
    n = s.no_repeat_ngram_size
    if n > 0 and generated.shape[1] >= n:
        scores = scores.clone()
        for row, ids in enumerate(generated.tolist()):
            suffix = ids[len(ids) - n + 1:]
            for start in range(len(ids) - n + 1):
                if ids[start:start + n - 1] == suffix:
                    scores[row, ids[start + n - 1]] = -math.inf
    scores = ban_bad_words(scores, generated, s.bad_words_ids, s.eos_token_id)
    if generated.shape[1] < s.min_new_tokens:
        scores = scores.clone()
        scores[:, s.eos_token_id] = -math.inf
    return scores


def _first_call(n, length):
    """Attention mask and positions of the first call: no padding, positions 0 … length-1."""
    return torch.ones(n, length, dtype=torch.long), torch.arange(length).expand(n, -1)


def _next_call(n, total):
    """Attention mask and position of a one-token call that makes the sequence `total` long."""
    return torch.ones(n, total, dtype=torch.long), torch.full((n, 1), total - 1, dtype=torch.long)


@torch.no_grad()
def greedy(lm, inputs_embeds, s: Settings = GREEDY):
    """Hugging Face `_sample` with do_sample=False: processors on the raw logits, argmax; a
    finished row is padded with pad_token_id."""
    n, length = inputs_embeds.shape[:2]
    logits, past = lm(inputs_embeds, *_first_call(n, length), lm.empty_past(n))
    generated = torch.zeros(n, 0, dtype=torch.long)
    unfinished = torch.ones(n, dtype=torch.bool)
    margins = torch.full((n,), math.inf)
    while True:
        scores = process_scores(logits[:, -1, :].float(), generated, s)
        top2 = scores.topk(2, dim=-1).values
        margins = torch.where(unfinished, torch.minimum(margins, top2[:, 0] - top2[:, 1]), margins)
        next_ids = torch.where(unfinished, scores.argmax(dim=-1), torch.tensor(s.pad_token_id))
        generated = torch.cat([generated, next_ids[:, None]], dim=1)
        unfinished &= next_ids != s.eos_token_id
        if generated.shape[1] >= s.max_new_tokens or not unfinished.any():
            break
        logits, past = lm(lm.embed(next_ids[:, None]), *_next_call(n, length + generated.shape[1]), past)
    return [Generation(_until_eos(row, s.eos_token_id), m) for row, m in zip(generated.tolist(), margins.tolist())]


def _until_eos(ids, eos):
    return ids[:ids.index(eos) + 1] if eos in ids else ids


def _boundary_gap(sorted_scores, k):
    """Gap between the k-th and (k+1)-th of descending scores, ignoring bookkeeping offsets."""
    a, b = sorted_scores[..., k - 1], sorted_scores[..., k]
    real = (a > NEG_INF_SCORE / 2) & (b > NEG_INF_SCORE / 2)
    return torch.where(real, a - b, torch.full_like(a, math.inf))


@torch.no_grad()
def beam_search(lm, inputs_embeds, s: Settings = RELEASED):
    """Hugging Face `_beam_search` (the vectorised rewrite): per item, keep the 2·beams best
    continuations of all running beams, finish those among the top `beams` that hit EOS or the
    length limit (score / generated_length ** length_penalty), continue with the best `beams`
    that did not. The cache is filled once per item and then copied to its beams."""
    (n, length), nb, L, V = inputs_embeds.shape[:2], s.num_beams, s.max_new_tokens, lm.vocab_size
    logits, past = lm(inputs_embeds, *_first_call(n, length), lm.empty_past(n))
    logits = logits.repeat_interleave(nb, dim=0)
    past = [p.repeat_interleave(nb, dim=0) for p in past]

    keep = max(2, 1 + 1) * nb  # one EOS id: keep 2·beams candidates
    running = torch.full((n, nb, L), s.pad_token_id, dtype=torch.long)
    running_scores = torch.zeros(n, nb)
    running_scores[:, 1:] = NEG_INF_SCORE  # identical beams at first: expand beam 0 only
    finished = running.clone()
    finished_scores = torch.full((n, nb), NEG_INF_SCORE)
    finished_len = torch.zeros(n, nb, dtype=torch.long)
    is_finished = torch.zeros(n, nb, dtype=torch.bool)
    can_improve = torch.ones(n, dtype=torch.bool)  # "early-stop heuristic unsatisfied", sticky
    top_nb_mask = torch.arange(keep) < nb
    margins = torch.full((n,), math.inf)

    for cur_len in range(L):
        active = can_improve & ~(is_finished.all(dim=1) & (s.early_stopping is True))
        log_probs = torch.log_softmax(logits[:, -1, :].float(), dim=-1)
        log_probs = process_scores(log_probs, running.reshape(n * nb, L)[:, :cur_len], s)
        acc = (log_probs.reshape(n, nb, V) + running_scores[:, :, None]).reshape(n, nb * V)
        ext_scores, ext_idx = acc.topk(keep + 1, dim=-1)  # one more than kept, for the margins
        ext_tok = ext_idx % V
        ext_hits = (ext_tok == s.eos_token_id) | (cur_len + 1 >= L)
        cand_scores, cand_idx, hits = ext_scores[:, :keep], ext_idx[:, :keep], ext_hits[:, :keep]
        cand_beam, cand_tok = cand_idx // V, cand_idx % V
        cand = running.gather(1, cand_beam[:, :, None].expand(-1, -1, L)).clone()
        cand[:, :, cur_len] = cand_tok

        # Continue with the best `nb` candidates that did not finish.
        cont_scores = cand_scores + hits.float() * NEG_INF_SCORE
        cont_sorted, cont_idx = cont_scores.topk(nb, dim=-1)
        next_running = cand.gather(1, cont_idx[:, :, None].expand(-1, -1, L))
        next_beam = cand_beam.gather(1, cont_idx)
        next_tok = cand_tok.gather(1, cont_idx)
        # Margins of this step's choices: which candidates continue (when `nb` of the kept ones
        # finished, the competitor is the first one not kept), and which may finish (only the top
        # `nb` may: it matters when a finishing candidate sits at that boundary).
        ext_cont = (ext_scores + ext_hits.float() * NEG_INF_SCORE).sort(dim=-1, descending=True).values
        step_margin = _boundary_gap(ext_cont, nb)
        at_finish_boundary = ext_hits[:, nb - 1] | ext_hits[:, nb]
        step_margin = torch.where(at_finish_boundary, torch.minimum(step_margin, _boundary_gap(ext_scores, nb)), step_margin)

        # Finish the candidates among the top `nb` that hit EOS or the length limit.
        just_finished = hits & top_nb_mask[None, :]
        normalised = cand_scores / ((cur_len + 1) ** s.length_penalty)
        normalised = normalised + (is_finished.all(dim=1, keepdim=True) & (s.early_stopping is True)).float() * NEG_INF_SCORE
        normalised = normalised + (~can_improve[:, None]).float() * NEG_INF_SCORE
        normalised = normalised + (~just_finished).float() * NEG_INF_SCORE
        merged_scores = torch.cat([finished_scores, normalised], dim=1)
        merged_sorted, best = merged_scores.topk(nb + 1, dim=-1)
        step_margin = torch.minimum(step_margin, _boundary_gap(merged_sorted, nb))
        best = best[:, :nb]
        finished = torch.cat([finished, cand], dim=1).gather(1, best[:, :, None].expand(-1, -1, L))
        finished_scores = merged_scores.gather(1, best)
        finished_len = torch.cat([finished_len, torch.full((n, keep), cur_len + 1)], dim=1).gather(1, best)
        is_finished = torch.cat([is_finished, just_finished], dim=1).gather(1, best)

        margins = torch.where(active, torch.minimum(margins, step_margin), margins)
        running, running_scores = next_running, cont_sorted

        # Stop when no item can still change its result.
        if s.early_stopping == "never" and s.length_penalty > 0.0:
            best_length = L
        else:
            best_length = cur_len + 1
        best_possible = running_scores[:, 0] / (best_length ** s.length_penalty)
        worst_finished = torch.where(is_finished, finished_scores.min(dim=1, keepdim=True).values,
                                     torch.tensor(NEG_INF_SCORE))
        can_improve = can_improve & (best_possible[:, None] > worst_finished).any(dim=1)
        all_full = is_finished.all() & (s.early_stopping is True)
        if not can_improve.any() or all_full or bool(hits.all()):
            break

        rows = (torch.arange(n)[:, None] * nb + next_beam).reshape(-1)
        past = [p.index_select(0, rows) for p in past]
        logits, past = lm(lm.embed(next_tok.reshape(-1, 1)), *_next_call(n * nb, length + cur_len + 1), past)

    final_gap = _boundary_gap(finished_scores, 1) if nb > 1 else torch.full((n,), math.inf)
    margins = torch.minimum(margins, final_gap)
    return [Generation(finished[i, 0, :finished_len[i, 0]].tolist(), margins[i].item()) for i in range(n)]


def generate(lm, inputs_embeds, s: Settings):
    return beam_search(lm, inputs_embeds, s) if s.num_beams > 1 else greedy(lm, inputs_embeds, s)
