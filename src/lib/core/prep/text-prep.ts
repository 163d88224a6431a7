/**
 * The string half of text preprocessing: normalizing, tokenizing and building a vocabulary. Strings
 * cannot live on an accelerator, so this runs in JS once per document; everything after the token ids
 * (counts, TF-IDF weights, norms, padding) is tensor work in `prep-pipeline.ts`.
 */
import type { NormalizeTextStep, TokenizeStep, VocabularyStep } from './prep-steps';

const PUNCTUATION = /[\p{P}\p{S}]+/gu;
const WHITESPACE = /\s+/u;
/** sklearn's default token_pattern `(?u)\b\w\w+\b`: runs of two or more letters, digits or underscores. */
const WORD = /[\p{L}\p{N}_]{2,}/gu;

export function normalizeText(text: string, step: NormalizeTextStep): string {
  let out = text.normalize('NFKC');
  if (step.lowercase) out = out.toLowerCase();
  if (step.stripPunctuation) out = out.replace(PUNCTUATION, ' ');
  return out;
}

/** Tokens of one document; a missing or empty document has none. */
export function tokenize(text: string | null, step: TokenizeStep): string[] {
  if (!text) return [];
  if (step.pattern === 'whitespace') return text.split(WHITESPACE).filter((t) => t.length > 0);
  return text.match(WORD) ?? [];
}

/**
 * The vocabulary of a tokenized corpus, sorted by code unit so ids do not depend on row order
 * (sklearn sorts too). Tokens need `minFrequency` documents; `maxSize` keeps the most frequent over the
 * corpus, ties broken alphabetically. Also returns each kept token's document frequency.
 */
export function buildVocabulary(
  documents: ReadonlyArray<readonly string[]>,
  step: VocabularyStep
): { tokens: string[]; documentFrequency: number[] } {
  const df = new Map<string, number>();
  const tf = new Map<string, number>();
  for (const tokens of documents) {
    for (const token of tokens) tf.set(token, (tf.get(token) ?? 0) + 1);
    for (const token of new Set(tokens)) df.set(token, (df.get(token) ?? 0) + 1);
  }
  let kept = [...df.entries()].filter(([, d]) => d >= step.minFrequency).map(([t]) => t);
  if (step.maxSize !== undefined && kept.length > step.maxSize) {
    kept = kept
      .sort((a, b) => (tf.get(b) ?? 0) - (tf.get(a) ?? 0) || (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, step.maxSize);
  }
  const tokens = kept.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { tokens, documentFrequency: tokens.map((t) => df.get(t) ?? 0) };
}
