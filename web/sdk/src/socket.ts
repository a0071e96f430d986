/**
 * The smallest WebSocket surface the client needs. The browser's WebSocket satisfies it; unit
 * tests inject an in-memory fake so the whole client algorithm runs without a network.
 */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

export const browserSocketFactory: SocketFactory = (url) => new WebSocket(url) as unknown as SocketLike;

/** Exponential backoff with full jitter (protocol §5 rule 8): the cap d starts at `initialMs` and
 * doubles up to `maxMs`; the delay is drawn from [0, d] so that many clients dropped at once do
 * not reconnect in lockstep. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  const d = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return random() * d;
}
