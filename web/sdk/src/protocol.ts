/** Wire messages of docs/protocol.md (version 1). Every frame is one JSON object with `type`. */
import type { Op } from './ot.js';

export const PROTOCOL_VERSION = 1;

export type Role = 'read' | 'write' | 'owner';

export type ClientOpBody =
  | { type: 'insert'; position: number; text: string }
  | { type: 'delete'; position: number; length: number }
  | { type: 'replace'; position: number; length: number; text: string }
  | { type: 'compound'; components: Op };

export type ClientOp = ClientOpBody & { operationId: string; userId: string; baseVersion: number };

export interface StatePoint {
  version: number;
  seq: number;
}

export type ClientMessage =
  | { type: 'join'; protocol: number; token: string; documentId: string; since?: StatePoint; clientName?: string }
  | { type: 'snapshotAck'; seq: number }
  | { type: 'submit'; op: ClientOp }
  | { type: 'presence'; anchor: number; head: number; version: number }
  | { type: 'ping'; nonce?: string };

export interface Limits {
  maxFrameBytes: number;
  maxOpChars: number;
  maxDocumentChars: number;
}

export interface OpEntry {
  seq: number;
  version: number;
  userId: string;
  operationId: string;
  op: Op;
}

export interface PresenceUser {
  /** One user may be present in several sessions (tabs, devices). */
  sessionId?: number;
  userId: string;
  username: string;
  color: string;
  anchor: number;
  head: number;
  version: number;
}

export type ErrorCode =
  | 'malformed'
  | 'too_large'
  | 'bad_op'
  | 'resync_required'
  | 'outcome_unknown'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'rate_limited'
  | 'overloaded'
  | 'unavailable'
  | 'internal';

export type ServerMessage =
  | { type: 'joined'; documentId: string; userId: string; username: string; role: Role; limits: Limits }
  | { type: 'snapshot'; content: string; version: number; seq: number }
  | { type: 'catchUp'; ops: OpEntry[]; version: number; seq: number }
  | { type: 'live'; seq: number }
  | { type: 'ops'; ops: OpEntry[] }
  | { type: 'ack'; operationId: string; version: number; seq: number; duplicate: boolean }
  | { type: 'presence'; users?: PresenceUser[]; left?: string; sessionId?: number }
  | {
      type: 'error';
      code: ErrorCode;
      message: string;
      operationId?: string;
      retryable: boolean;
      fatal?: boolean;
    }
  | { type: 'pong'; nonce?: string };
