"""GPT-2's byte-level BPE (OpenAI's r50k_base), for prompt ids and caption text.

The ranks are read from the jtokkit jar the Java side uses (its `r50k_base.tiktoken` resource:
base64 token bytes and rank per line), so both sides tokenise from the same table and nothing
of the vocabulary is committed here. Needs the `regex` module for the \\p{L}/\\p{N} pre-split.
"""

import base64
import os
import zipfile

import regex

EOS_TOKEN_ID = 50256
DEFAULT_JAR = os.path.expanduser("~/.m2/repository/com/knuddels/jtokkit/1.1.0/jtokkit-1.1.0.jar")
_RESOURCE = "com/knuddels/jtokkit/r50k_base.tiktoken"
_PRE_SPLIT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


class Tokenizer:
    def __init__(self, jar_path: str = DEFAULT_JAR):
        try:
            with zipfile.ZipFile(jar_path) as jar:
                lines = jar.read(_RESOURCE).decode("ascii").splitlines()
        except (OSError, KeyError, zipfile.BadZipFile) as e:
            raise FileNotFoundError(
                f"cannot read GPT-2 ranks ({_RESOURCE}) from {jar_path}: {e}. Build the Java side once "
                "(mvn -o dependency:resolve) or pass the path of jtokkit-1.1.0.jar") from e
        self.ranks = {}
        for line in lines:
            token, rank = line.split()
            self.ranks[base64.b64decode(token)] = int(rank)
        self.tokens = {rank: token for token, rank in self.ranks.items()}
        if len(self.ranks) != EOS_TOKEN_ID or max(self.tokens) != EOS_TOKEN_ID - 1:
            raise ValueError(f"{jar_path}: expected ranks 0..{EOS_TOKEN_ID - 1}, found {len(self.ranks)}")

    def encode(self, text: str) -> list:
        """Ordinary text to ids; special tokens are not recognised (as tiktoken's encode_ordinary)."""
        ids = []
        for piece in _PRE_SPLIT.findall(text):
            ids += self._merge(piece.encode("utf-8"))
        return ids

    def _merge(self, piece: bytes) -> list:
        """Repeatedly merge the adjacent pair whose concatenation has the lowest rank."""
        parts = [piece[i:i + 1] for i in range(len(piece))]
        while len(parts) > 1:
            ranked = [(self.ranks.get(parts[i] + parts[i + 1]), i) for i in range(len(parts) - 1)]
            ranked = [(r, i) for r, i in ranked if r is not None]
            if not ranked:
                break
            _, i = min(ranked)
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        return [self.ranks[p] for p in parts]

    def decode(self, ids) -> str:
        """transformers 4.56.0's decode(ids, skip_special_tokens=True) for gpt2-medium: EOS dropped,
        invalid UTF-8 replaced, no clean-up of tokenization spaces (the tokenizer default is False
        since 4.45 and gpt2-medium's tokenizer_config.json does not set it)."""
        data = b"".join(self.tokens[i] for i in ids if i != EOS_TOKEN_ID)
        return data.decode("utf-8", errors="replace")


def caption_text(tokenizer: Tokenizer, ids, prompt: str, collapse_whitespace: bool) -> str:
    """The caption as the author's scripts report it: decoded; if the prompt occurs, everything up
    to and including its first occurrence dropped; stripped; with `collapse_whitespace` (inference.py)
    every whitespace run made one space."""
    text = tokenizer.decode(ids)
    if prompt in text:
        text = text.split(prompt, 1)[1]
    text = text.strip()
    return " ".join(text.split()) if collapse_whitespace else text
