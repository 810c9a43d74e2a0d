"""Likely duplicate counterparts in a country: the same name once accents, case, punctuation and word order are
set aside, or names close enough by rapidfuzz's token-sort ratio (a typo, a middle name written once)."""

import itertools
import unicodedata

from rapidfuzz import fuzz

# Token-sort ratio (0-100) from which two names are offered as likely the same person.
FUZZY_THRESHOLD = 88


def normalised(name: str) -> str:
    """``"Ngozi  Okonjo-Iweala"`` and ``"okonjo iweala, ngozi"`` give the same key."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).casefold()
    words = "".join(c if c.isalnum() else " " for c in plain).split()
    return " ".join(sorted(words))


def likely_duplicates(counterparts) -> list[tuple]:
    """Pairs ``(a, b, score)`` of one country's counterparts, the closest first (100: the same name)."""
    people = [(person, normalised(person.name)) for person in counterparts]
    pairs = []
    for (a, key_a), (b, key_b) in itertools.combinations(people, 2):
        if not key_a or not key_b:
            continue
        score = 100 if key_a == key_b else fuzz.token_sort_ratio(key_a, key_b)
        if score >= FUZZY_THRESHOLD:
            pairs.append((a, b, round(score)))
    pairs.sort(key=lambda pair: (-pair[2], pair[0].name, pair[1].name))
    return pairs
