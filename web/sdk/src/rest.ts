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
  expiresAt: string;
}

export interface DocumentInfo {
  id: string;
  title: string;
  role: Role;
  ownerId?: string;
  ownerUsername?: string;
  createdAt?: string;
  updatedAt?: string;
  [extra: string]: unknown;
}

export interface Collaborator {
  userId: string;
  username: string;
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
    return this.call<User | { user: User }>('GET', '/api/me').then((r) => ('user' in r ? r.user : r));
  }

  searchUsers(prefix: string, limit = 10): Promise<User[]> {
    const q = new URLSearchParams({ prefix, limit: String(limit) });
    return this.call<{ users: User[] } | User[]>('GET', `/api/users?${q}`).then((r) => (Array.isArray(r) ? r : r.users));
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
    return this.call<DocumentInfo | { document: DocumentInfo }>('POST', '/api/documents', { title }).then(unwrapDoc);
  }

  getDocument(id: string): Promise<DocumentInfo> {
    return this.call<DocumentInfo | { document: DocumentInfo }>('GET', `/api/documents/${enc(id)}`).then(unwrapDoc);
  }

  renameDocument(id: string, title: string): Promise<DocumentInfo> {
    return this.call<DocumentInfo | { document: DocumentInfo }>('PATCH', `/api/documents/${enc(id)}`, { title }).then(unwrapDoc);
  }

  deleteDocument(id: string): Promise<void> {
    return this.call('DELETE', `/api/documents/${enc(id)}`);
  }

  listCollaborators(id: string): Promise<Collaborator[]> {
    return this.call<{ collaborators: Collaborator[] } | Collaborator[]>('GET', `/api/documents/${enc(id)}/collaborators`).then(
      (r) => (Array.isArray(r) ? r : r.collaborators),
    );
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

function unwrapDoc(r: DocumentInfo | { document: DocumentInfo }): DocumentInfo {
  return 'document' in r && typeof r.document === 'object' && r.document !== null ? (r.document as DocumentInfo) : (r as DocumentInfo);
}
