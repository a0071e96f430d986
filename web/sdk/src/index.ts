export { DocClient, routedUrl } from './client.js';
export type { ConnectionStatus, Utf16Change, RemotePeer, ClientError, JoinInfo, DocClientEvents, DocClientOptions, Draft, DraftEdit, DraftInFlight } from './client.js';
export { ChunkedText, OpRangeError, countCodePoints } from './text.js';
export { normalize, transform, compose, applyToString, transformPosition, toClientOp, fromClientOp, diffOp, invert, type Op, type Component, type Side } from './ot.js';
export type * from './protocol.js';
export { QuireApi, ApiError, type User, type Session, type DocumentInfo, type Collaborator } from './rest.js';
export type { SocketLike, SocketFactory } from './socket.js';
