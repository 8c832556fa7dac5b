"""The DRRN network (He et al. 2016): one encoder for the state text, one for each candidate action,
and Q(s, a) from their interaction.

Text is turned into token ids by :func:`tokenize`: lowercase words hashed (CRC-32) into a fixed
number of buckets, so there is no vocabulary to build or save and a reloaded model reads text
exactly as the saved one did. Encoders are GRUs (as in Hausknecht et al. 2020's Jericho DRRN) or,
cheaper, the mean of the word embeddings through a linear layer (``encoder="bag"``). Q is an MLP
over the concatenated state and action encodings.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn

#: Token id of padding; id 1 stands for an empty text.
PAD, EMPTY = 0, 1
_WORD = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")
ENCODERS = ("gru", "bag")


@dataclass(frozen=True)
class DRRNNetConfig:
    """The network's shape (saved with the weights).

    Attributes:
        vocab_size: Hash buckets for words (ids 0 and 1 are reserved).
        embed_dim: Word embedding size.
        hidden_dim: Encoding size of states and actions, and of the Q MLP's hidden layer.
        encoder: ``"gru"`` or ``"bag"`` (mean of embeddings, then a linear layer and ReLU).
        max_state_tokens: Longest state text kept (its last tokens are dropped).
        max_action_tokens: Longest action text kept.
    """

    vocab_size: int = 4096
    embed_dim: int = 64
    hidden_dim: int = 128
    encoder: str = "gru"
    max_state_tokens: int = 160
    max_action_tokens: int = 12

    def __post_init__(self) -> None:
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {self.encoder!r}")
        for name in ("vocab_size", "embed_dim", "hidden_dim", "max_state_tokens"):
            if int(getattr(self, name)) < 2:
                raise ValueError(f"{name} must be >= 2, got {getattr(self, name)!r}")
        if self.max_action_tokens < 1:
            raise ValueError(f"max_action_tokens must be >= 1, got {self.max_action_tokens!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def tokenize(text: str, vocab_size: int, max_tokens: int) -> list[int]:
    """Token ids of ``text``: lowercase words and punctuation, each hashed to ``2..vocab_size-1``.

    Never empty: a text without words is ``[EMPTY]``.
    """
    words = _WORD.findall(text.lower())[:max_tokens]
    ids = [2 + zlib.crc32(w.encode()) % (vocab_size - 2) for w in words]
    return ids or [EMPTY]


class DRRNNet(nn.Module):
    """Q(s, a) for a state and its candidate actions.

    Args:
        config: The network's shape.
    """

    def __init__(self, config: DRRNNetConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=PAD)
        if c.encoder == "gru":
            self.state_encoder: nn.Module = nn.GRU(c.embed_dim, c.hidden_dim, batch_first=True)
            self.action_encoder: nn.Module = nn.GRU(c.embed_dim, c.hidden_dim, batch_first=True)
        else:
            self.state_encoder = nn.Linear(c.embed_dim, c.hidden_dim)
            self.action_encoder = nn.Linear(c.embed_dim, c.hidden_dim)
        self.hidden = nn.Linear(2 * c.hidden_dim, c.hidden_dim)
        self.out = nn.Linear(c.hidden_dim, 1)

    def _encode(self, encoder: nn.Module, seqs: Sequence[Sequence[int]]) -> torch.Tensor:
        lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
        ids = torch.zeros(len(seqs), int(lengths.max()), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
        emb = self.embedding(ids)
        if self.config.encoder == "gru":
            packed = nn.utils.rnn.pack_padded_sequence(
                emb, lengths, batch_first=True, enforce_sorted=False
            )
            _, h = encoder(packed)
            return h[-1]
        mean = emb.sum(dim=1) / lengths.unsqueeze(1).to(emb.dtype)
        return torch.relu(encoder(mean))

    def encode_states(self, states: Sequence[Sequence[int]]) -> torch.Tensor:
        """``[len(states), hidden_dim]`` encodings of tokenized states."""
        return self._encode(self.state_encoder, states)

    def encode_actions(self, actions: Sequence[Sequence[int]]) -> torch.Tensor:
        """``[len(actions), hidden_dim]`` encodings of tokenized actions."""
        return self._encode(self.action_encoder, actions)

    def q(self, state_codes: torch.Tensor, action_codes: torch.Tensor) -> torch.Tensor:
        """Q of paired rows: ``[n, hidden] x [n, hidden] -> [n]``."""
        z = torch.relu(self.hidden(torch.cat([state_codes, action_codes], dim=1)))
        return self.out(z).squeeze(1)

    def q_values(
        self,
        states: Sequence[Sequence[int]],
        candidates: Sequence[Sequence[Sequence[int]]],
    ) -> list[torch.Tensor]:
        """Q of every candidate of every state.

        Args:
            states: Tokenized states.
            candidates: For each state, its tokenized candidate actions (at least one each).

        Returns:
            One tensor per state, ``[len(candidates[i])]``.
        """
        state_codes = self.encode_states(states)
        unique: dict[tuple[int, ...], int] = {}
        index: list[int] = []
        owner: list[int] = []
        for i, cands in enumerate(candidates):
            for a in cands:
                key = tuple(a)
                index.append(unique.setdefault(key, len(unique)))
                owner.append(i)
        action_codes = self.encode_actions([list(k) for k in unique])
        rows = torch.as_tensor(owner, dtype=torch.long)
        q = self.q(state_codes[rows], action_codes[torch.as_tensor(index, dtype=torch.long)])
        return list(torch.split(q, [len(c) for c in candidates]))


__all__ = ["EMPTY", "ENCODERS", "PAD", "DRRNNet", "DRRNNetConfig", "tokenize"]
