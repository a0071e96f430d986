/** Navigation helpers shared by the views (kept apart from main.ts to avoid an import cycle). */
export type Cleanup = () => void;

let notice: string | null = null;
let reroute: () => void = () => {};

export function setRouter(route: () => void): void {
  reroute = route;
}

/** Navigates to a hash route, optionally showing a one-time notice on the next page. */
export function go(hash: string, message?: string): void {
  if (message) notice = message;
  if (location.hash === hash) reroute();
  else location.hash = hash;
}

/** Takes the pending one-time notice, if any. */
export function takeNotice(): string | null {
  const n = notice;
  notice = null;
  return n;
}
