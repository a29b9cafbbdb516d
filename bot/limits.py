"""GitHub's limits on what the bot posts, each defined once, and the clipping that keeps within them."""

from __future__ import annotations

MAX_BODY = 65536  # characters of a review body or a review comment body
MAX_OUTPUT = 65535  # characters of a check run's output.summary and output.text
MAX_TITLE = 255  # characters of an annotation title (and what we allow a check run title)
# Bytes of an annotation's message or raw_details: GitHub says "64 KB"; 64,000 is under both readings.
MAX_ANNOTATION_BYTES = 64_000
ANNOTATIONS_PER_REQUEST = 50  # annotations one check-run request may carry
MAX_PR_FILES = 3000  # files GitHub lists for a pull request
PAGE_SIZE = 100  # GitHub's largest page: REST per_page, GraphQL first/last
BLOBS_PER_QUERY = 50  # file texts asked for in one GraphQL query (our choice: one query stays small)
# Inline comments one review carries by default: more go into the review body. GitHub sets no
# documented cap, but very large reviews time out, and 30 comments is already a long review.
DEFAULT_INLINE_COMMENTS = 30
# Lines one suggestion may replace when the fixes of one object are offered as one (our choice: a
# longer suggestion is hard to review; its fixes are offered one by one instead).
MAX_SUGGESTION_LINES = 200

TRUNCATED = "... (truncated)"


def clip_text(text: str, limit: int, note: str = TRUNCATED) -> str:
    """`text` within `limit` characters, cut at a line break and ended with `note`.

    The bot's fingerprint markers are kept whatever is cut: a finding whose marker was lost
    would be posted again on the next run."""
    if len(text) <= limit:
        return text
    # Imported here: bot.config reads this module's constants, and `unroot check` need not load hashlib.
    from bot.fingerprint import is_marker

    lines = text.split("\n")
    markers = "\n".join(line for line in lines if is_marker(line))
    kept = "\n".join(line for line in lines if not is_marker(line)) if markers else text
    tail = f"\n{note}" + (f"\n\n{markers}" if markers else "")
    room = limit - len(tail)
    if room <= 0:  # markers alone over the limit: nothing better than a plain cut
        return text[:limit]
    cut = kept.rfind("\n", 0, room)
    return kept[: cut if cut > 0 else room] + tail


def clip_bytes(text: str, limit: int, note: str = "\n" + TRUNCATED) -> str:
    """At most `limit` UTF-8 bytes (GitHub counts bytes), cut on a character boundary, ended with `note`."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return text
    return data[: limit - len(note.encode())].decode("utf-8", "ignore") + note
