/**
 * SQuAD answer normalisation and token-level F1 (the official SQuAD v2 evaluation script; verl's
 * search-R1 exact match uses the same normalize_answer).
 */
import { checkText, checkReference } from './check.js';

/** Python's string.punctuation (ASCII only, as the script). */
const punctuation = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
/** Python's `\b(a|an|the)\b` on str: word characters are Unicode letters, numbers and '_'. */
const articles = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;
/** Python's str.split() separators (Unicode whitespace, including \x1c-\x1f and \x85). */
const whitespace = /[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** lower → drop punctuation → drop articles → collapse whitespace (normalize_answer). */
export function normalizeText(text: string): string {
  checkText(text, 'text');
  return tokens(text).join(' ');
}

/**
 * The plain-ASCII pass, written as a loop because it is the F1 rule's hot path (whole ~1 KB responses):
 * texts of printable ASCII and ASCII whitespace are tokenised in ONE pass over the character codes
 * instead of lower → replace → split → filter, with no regex and no lower-cased or punctuation-free
 * copy of the text, each token kept as its range, normalised length and hash, so F1 against a short
 * reference allocates nothing per token (about 5× faster). In such texts every character is a
 * separator, punctuation (dropped first) or [0-9A-Za-z], so `\b(a|an|the)\b` can only match whole
 * tokens and dropping a/an/the tokens is the same. Any other character makes the pass give up and the
 * regex path in tokens() decides, as before (Python's lower() and toLowerCase differ beyond ASCII).
 */
const OTHER = 0, SPACE = 1, PUNCT = 2;
/**
 * What each ASCII code is to normalize_answer: OTHER (not plain ASCII: the regex path decides), a
 * separator, string.punctuation, or else (0-9, A-Z, a-z: every other printable ASCII character is
 * punctuation) the character lower-cased.
 */
const normal = new Uint8Array(128);
for (let c = 0x21; c <= 0x7e; c++) normal[c] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
for (const c of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20]) normal[c] = SPACE;
for (const ch of '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~') normal[ch.charCodeAt(0)] = PUNCT;

/** FNV-1a over the normalised characters: tokens are compared by hash and length before character by character. */
const hashSeed = 0x811c9dc5 | 0;
function hashToken(token: string): number {
  let h = hashSeed;
  for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 16777619);
  return h;
}
const articleWords = ['a', 'an', 'the'], articleHashes = articleWords.map(hashToken);

/** Whether the token text[start, end) of normalised length `len` and hash `hash` is a, an or the. */
function isArticle(text: string, start: number, end: number, len: number, hash: number): boolean {
  return len <= 3 && hash === articleHashes[len - 1] && sameToken(text, start, end, articleWords[len - 1]!);
}

/** The last pass's tokens: start and end in the text, normalised length and hash, whether it has A-Z. */
let tokStart = new Int32Array(256), tokEnd = new Int32Array(256), tokLen = new Int32Array(256), tokHash = new Int32Array(256);
let tokUpper = new Uint8Array(256);

/** Whether text[start, end) of a plain-ASCII text, normalised, is `token` (whose length the caller checked). */
function sameToken(text: string, start: number, end: number, token: string): boolean {
  let j = 0;
  for (let i = start; i < end; i++) {
    const v = normal[text.charCodeAt(i)]!;
    if (v !== PUNCT && v !== token.charCodeAt(j++)) return false;
  }
  return true;
}

/** Tokenises a plain-ASCII text into the tok* arrays: the token count, or -1 at any other character. */
function scanAscii(text: string): number {
  const n = text.length;
  if (tokStart.length <= n >> 1) {
    const size = (n >> 1) + 1;
    tokStart = new Int32Array(size); tokEnd = new Int32Array(size); tokLen = new Int32Array(size); tokHash = new Int32Array(size);
    tokUpper = new Uint8Array(size);
  }
  let count = 0, i = 0;
  while (i < n) {
    // A token runs to the next separator (or the end); its normalised characters are hashed on the way.
    const start = i;
    let len = 0, hash = hashSeed, upper = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i), v = c < 128 ? normal[c]! : OTHER;
      if (v > PUNCT) { hash = Math.imul(hash ^ v, 16777619); len++; upper |= v ^ c; }
      else if (v === SPACE) break;
      else if (v === OTHER) return -1;
    }
    // Keep it unless punctuation was all it had (or it was empty: a separator) or it is an article.
    if (len > 0 && !isArticle(text, start, i, len, hash)) {
      tokStart[count] = start; tokEnd[count] = i; tokLen[count] = len; tokHash[count] = hash; tokUpper[count] = upper; count++;
    }
    i++;
  }
  return count;
}

/** Token t of the last pass, lower-cased without punctuation. */
function tokenAt(text: string, t: number): string {
  const s = tokStart[t]!, e = tokEnd[t]!;
  const raw = text.slice(s, e);
  if (tokLen[t] !== e - s) return raw.replace(punctuation, '').toLowerCase();
  return tokUpper[t] !== 0 ? raw.toLowerCase() : raw;
}

/** normalize_answer(text).split(): the tokens F1 and SQuAD exact match compare. */
export function tokens(text: string): string[] {
  const count = scanAscii(text);
  if (count >= 0) {
    const out: string[] = [];
    for (let t = 0; t < count; t++) out.push(tokenAt(text, t));
    return out;
  }
  const out = text.toLowerCase().replace(punctuation, '').replace(articles, ' ').split(whitespace);
  if (out.length && out[0] === '') out.shift();
  if (out.length && out[out.length - 1] === '') out.pop();
  return out;
}

/** F1 from the overlap and the token counts; when either side normalises to nothing, 1 if both do, else 0 (SQuAD v2). */
function f1Counts(same: number, predLength: number, refLength: number): number {
  if (predLength === 0 || refLength === 0) return predLength === refLength ? 1 : 0;
  if (same === 0) return 0;
  const precision = same / predLength, recall = same / refLength;
  return (2 * precision * recall) / (precision + recall);
}

/** Multiset overlap of two token lists. */
function overlap(pred: readonly string[], ref: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const t of ref) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of pred) {
    const c = counts.get(t);
    if (c) { same++; counts.set(t, c - 1); }
  }
  return same;
}

/** References up to this many tokens are matched by a linear scan with used flags (faster than a Map when short). */
const shortReference = 16;
const refHash = new Int32Array(shortReference), refUsed = new Uint8Array(shortReference);

/** Multiset overlap of the last pass's `count` tokens of `text` with a short reference. */
function overlapShort(text: string, count: number, ref: readonly string[]): number {
  for (let j = 0; j < ref.length; j++) { refHash[j] = hashToken(ref[j]!); refUsed[j] = 0; }
  let same = 0;
  for (let t = 0; t < count; t++) {
    const h = tokHash[t], len = tokLen[t];
    for (let j = 0; j < ref.length; j++) {
      if (refHash[j] === h && refUsed[j] === 0 && ref[j]!.length === len && sameToken(text, tokStart[t]!, tokEnd[t]!, ref[j]!)) {
        refUsed[j] = 1; same++;
        break;
      }
    }
  }
  return same;
}

/** Token F1 of `prediction` against one reference, or the best over several. */
export function f1Score(prediction: string, reference: string | readonly string[]): number {
  checkText(prediction, 'prediction');
  return f1(prediction, checkReference(reference, 'reference'));
}

/** f1Score without the checks, for the batch loops. */
export function f1(prediction: string, references: readonly string[]): number {
  const refs = references.map(tokens);
  // The prediction's pass comes after the references' (they share the tok* arrays).
  const count = refs.every((r) => r.length <= shortReference) ? scanAscii(prediction) : -1;
  let best = 0;
  if (count >= 0) {
    for (const ref of refs) best = Math.max(best, f1Counts(overlapShort(prediction, count, ref), count, ref.length));
    return best;
  }
  const pred = tokens(prediction);
  for (const ref of refs) best = Math.max(best, f1Counts(overlap(pred, ref), pred.length, ref.length));
  return best;
}

/** SQuAD exact match: equal after normalize_answer (best over several references). */
export function exactMatchSquad(prediction: string, references: readonly string[]): boolean {
  const p = tokens(prediction).join(' ');
  return references.some((r) => tokens(r).join(' ') === p);
}
