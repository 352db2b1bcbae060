import { setTimeout as sleep } from 'node:timers/promises';

/** Milliseconds between two words of the fake model (`SAMPLE_WORD_MS`), slow enough to reload mid-answer. */
export const wordDelay = (): number => Number(process.env.SAMPLE_WORD_MS ?? 200);

/** The answer the fake model gives to `question`, word by word (the same every time: a test can check it whole). */
export function fakeAnswerWords(question: string): string[] {
  const text =
    `You asked: "${question}". Here is a slow answer, one word at a time, so that you can reload ` +
    'this page, open a second tab, or press stop while it streams. The server keeps every word it ' +
    'sends in a recording of this stream, so a page that comes back follows it by its id and shows ' +
    'the whole answer once, and a second tab shows the same words live.';
  return text.split(' ');
}

/**
 * A stand-in for a model SDK's stream: the words of the answer, one every
 * `wordDelay()` ms. It takes the request's `AbortSignal` as an SDK does, and
 * stops with an `AbortError` when it is aborted (the stream was stopped).
 */
export async function* fakeModel(question: string, signal: AbortSignal): AsyncGenerator<string> {
  for (const word of fakeAnswerWords(question)) {
    await sleep(wordDelay(), undefined, { signal });
    yield word;
  }
}
