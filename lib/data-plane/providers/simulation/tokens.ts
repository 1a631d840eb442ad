// The simulator's idea of tokens: an answer is a list of pieces that join back to its exact text,
// one token each (a word with the space before it, or one punctuation mark). Streams send one
// piece a chunk; usage counts pieces; stop sequences and max_tokens cut the list.

/** Rough prompt-side estimate (about four characters a token): cheap for long prompts. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Splits text into pieces that join back to it exactly. */
export function tokenize(text: string): string[] {
  return text.match(/\s*(?:\w+|[^\s\w])|\s+$/g) ?? [];
}

export interface CutAnswer {
  pieces: string[];
  finishReason: "stop" | "length";
}

/**
 * What a model would have produced: generation ends at the first stop sequence (excluded) if it
 * comes within `limit` tokens, otherwise at `limit` with finish reason "length".
 */
export function cutAnswer(pieces: string[], stop: readonly string[], limit: number | undefined): CutAnswer {
  let kept = pieces;
  if (stop.length > 0) {
    const text = pieces.join("");
    let at = -1;
    for (const sequence of stop) {
      const found = sequence === "" ? -1 : text.indexOf(sequence);
      if (found >= 0 && (at < 0 || found < at)) at = found;
    }
    if (at >= 0) {
      kept = piecesBefore(pieces, at);
    }
  }
  // A stop sequence past the limit was never reached: the limit ended generation first.
  if (limit !== undefined && kept.length > limit) {
    return { pieces: kept.slice(0, limit), finishReason: "length" };
  }
  return { pieces: kept, finishReason: "stop" };
}

/** The pieces covering the first `length` characters, the last one shortened where it straddles. */
function piecesBefore(pieces: string[], length: number): string[] {
  const out: string[] = [];
  let used = 0;
  for (const piece of pieces) {
    if (used >= length) break;
    const room = length - used;
    out.push(piece.length <= room ? piece : piece.slice(0, room));
    used += piece.length;
  }
  return out;
}
