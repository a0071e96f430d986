/**
 * The REST API (accounts, documents, sharing). Every failure becomes an ApiError carrying the
 * server's `{"error": {"code", "message"}}`, or code `network` when no answer came.
 */
import type { Role } from './protocol.js';

export interface User {
  id: string;
  username: string;
}

export interface Session {
  user: User;
  token: string;
  /** Milliseconds since the Unix epoch. */
  expiresAt: number;
}

/** A document as seen by the caller (`role` is the caller's). Times in ms since the epoch. */
export interface DocumentInfo {
  id: string;
  title: string;
  ownerId: string;
  role: Role;
  createdAt: number;
  updatedAt: number;
}

export interface Collaborator {
  user: User;
  role: Role;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class QuireApi {
  /** `base` is the origin (or '' for same origin); `token` is read at each call. */
  constructor(
    private readonly base: string,
    private readonly token: () => string | null = () => null,
    private readonly fetchImpl: typeof fetch = (...a) => fetch(...a),
  ) {}

  /** ws:// or wss:// URL of the realtime gateway on the same server. */
  websocketUrl(): string {
    const origin = this.base || globalThis.location.origin;
    return origin.replace(/^http/, 'ws') + '/api/ws';
  }

  signup(username: string, password: string): Promise<Session> {
    return this.call('POST', '/api/auth/signup', { username, password });
  }

  login(username: string, password: string): Promise<Session> {
    return this.call('POST', '/api/auth/login', { username, password });
  }

  me(): Promise<User> {
    return this.call('GET', '/api/me');
  }

  /** First page of users whose name starts with `prefix` (case-insensitive). */
  searchUsers(prefix: string, limit = 10): Promise<User[]> {
    const q = new URLSearchParams({ prefix, limit: String(limit) });
    return this.call<{ users: User[] }>('GET', `/api/users?${q}`).then((r) => r.users);
  }

  listDocuments(cursor?: string): Promise<{ documents: DocumentInfo[]; nextCursor: string | null }> {
    const q = cursor ? `?${new URLSearchParams({ cursor })}` : '';
    return this.call('GET', `/api/documents${q}`);
  }

  /** Every document, following `nextCursor`. */
  async listAllDocuments(): Promise<DocumentInfo[]> {
    const all: DocumentInfo[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.listDocuments(cursor);
      all.push(...page.documents);
      if (!page.nextCursor) return all;
      cursor = page.nextCursor;
    }
  }

  createDocument(title: string): Promise<DocumentInfo> {
    return this.call('POST', '/api/documents', { title });
  }

  getDocument(id: string): Promise<DocumentInfo> {
    return this.call('GET', `/api/documents/${enc(id)}`);
  }

  renameDocument(id: string, title: string): Promise<DocumentInfo> {
    return this.call('PATCH', `/api/documents/${enc(id)}`, { title });
  }

  deleteDocument(id: string): Promise<void> {
    return this.call('DELETE', `/api/documents/${enc(id)}`);
  }

  /** Everyone with access, the owner included. */
  listCollaborators(id: string): Promise<Collaborator[]> {
    return this.call<{ collaborators: Collaborator[] }>('GET', `/api/documents/${enc(id)}/collaborators`).then((r) => r.collaborators);
  }

  share(id: string, who: { userId: string } | { username: string }, role: 'read' | 'write'): Promise<unknown> {
    return this.call('POST', `/api/documents/${enc(id)}/collaborators`, { ...who, role });
  }

  changeRole(id: string, userId: string, role: 'read' | 'write'): Promise<unknown> {
    return this.call('PATCH', `/api/documents/${enc(id)}/collaborators/${enc(userId)}`, { role });
  }

  revoke(id: string, userId: string): Promise<void> {
    return this.call('DELETE', `/api/documents/${enc(id)}/collaborators/${enc(userId)}`);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    const token = this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetchImpl(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, 'network', `cannot reach the server (${(e as Error).message})`);
    }
    const text = await res.text();
    let json: unknown = undefined;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        if (!res.ok) throw new ApiError(res.status, 'http', text.slice(0, 200));
      }
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(res.status, err?.code ?? 'http', err?.message ?? `HTTP ${res.status}`);
    }
    return json as T;
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
