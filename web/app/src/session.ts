/**
 * The signed-in session (token + user), kept in localStorage so a reload stays signed in, and
 * the API client that uses it. An expired session is dropped before it is used.
 */
import { ApiError, QuireApi, type Session } from '@quire/sdk';

const KEY = 'quire.session';

let current: Session | null = load();

function load(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Session | null;
    return s && !expired(s) ? s : null;
  } catch {
    return null;
  }
}

function expired(s: Session): boolean {
  return typeof s.expiresAt === 'number' && s.expiresAt <= Date.now();
}

export function session(): Session | null {
  if (current && expired(current)) signOut();
  return current;
}

export function signIn(s: Session): void {
  current = s;
  localStorage.setItem(KEY, JSON.stringify(s));
}

export function signOut(): void {
  current = null;
  localStorage.removeItem(KEY);
}

export const api = new QuireApi('', () => current?.token ?? null);

/** True when the error means the session is no longer valid. */
export function isSessionError(e: unknown): boolean {
  return e instanceof ApiError && e.status === 401;
}
