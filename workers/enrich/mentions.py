"""Entity mentions found in a text, and the claims that keep them from overlapping."""

from __future__ import annotations

from dataclasses import dataclass

from schemas import EntityType


@dataclass
class Mention:
    """Tokens ``start`` to ``end`` (exclusive) name entity ``name``."""

    start: int
    end: int
    name: str
    type: EntityType
    subtype: str | None = None
    weak: bool = False  # an uncued guess: kept only when the name recurs in the text
    rule: str = ""  # which rule found it, for debugging and evaluation


class Claims:
    """Which mention owns each token: rules run from most to least reliable, and later ones only get free tokens."""

    def __init__(self, size: int):
        self._owner: list[Mention | None] = [None] * size
        self.mentions: list[Mention] = []

    def at(self, i: int) -> Mention | None:
        """The mention covering token ``i``, if any."""
        return self._owner[i]

    def is_free(self, start: int, end: int) -> bool:
        """True when no mention covers any token in the range."""
        return all(owner is None for owner in self._owner[start:end])

    def add(self, mention: Mention, replace: bool = False) -> bool:
        """Claim the mention's tokens; with ``replace``, mentions lying wholly inside it give way (not people)."""
        inside = {id(m): m for m in self._owner[mention.start : mention.end] if m is not None}
        for m in inside.values():
            contained = mention.start <= m.start and m.end <= mention.end
            if not (replace and contained and m.type is not EntityType.PERSON):
                return False
        for m in inside.values():
            self.mentions.remove(m)
        for i in range(mention.start, mention.end):
            self._owner[i] = mention
        self.mentions.append(mention)
        return True
