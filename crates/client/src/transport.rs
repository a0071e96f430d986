//! How the client reaches a server: a [`Connector`] opens a [`Connection`],
//! which is a pair of bounded channels of text frames.
//!
//! Channels rather than a socket type keep the session logic independent of
//! the transport: the real WebSocket ([`WsConnector`]) is pumped by a task,
//! and tests wrap any connector in a fault-injecting one
//! ([`crate::faults::FaultyConnector`]) that drops connections, delays and
//! duplicates frames without the session knowing.

use async_trait::async_trait;
use futures_util::{SinkExt, StreamExt};
use quire_engine::DocumentId;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Frames buffered in each direction of one connection.
pub const CONNECTION_QUEUE_FRAMES: usize = 1024;

/// Initial socket read buffer. The WebSocket layer zero-fills its read
/// buffer before every read, so its 128 KiB default costs a large memset per
/// small frame; the buffer still grows for large frames.
pub const SOCKET_READ_BUFFER_BYTES: usize = 8 * 1024;

/// Why a connection could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The server (or a proxy in front of it) answered the upgrade with a
    /// 4xx status: the same URL will be refused again, so the client stops.
    #[error("the server refused the connection: {0}")]
    Refused(String),
    /// Unreachable, reset, a 5xx answer...: worth trying again later.
    #[error("cannot connect: {0}")]
    Unreachable(String),
}

/// One open connection. Dropping it (or `outgoing`'s receiver ending) closes
/// it; `incoming` yields `None` once the server side closed.
#[derive(Debug)]
pub struct Connection {
    pub outgoing: mpsc::Sender<String>,
    pub incoming: mpsc::Receiver<String>,
}

/// Opens connections to one server.
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// Opens a connection for editing `document` (the `join` frame names it
    /// again; a connector may use it to route).
    async fn connect(&self, document: DocumentId) -> Result<Connection, TransportError>;
}

/// A WebSocket connector (`ws://host:port/api/ws`). It names the document
/// in the URL (`?document=`), so a load balancer in front of several server
/// instances can route every client of a document to the same instance.
#[derive(Debug, Clone)]
pub struct WsConnector {
    url: String,
    max_frame_bytes: usize,
}

impl WsConnector {
    /// `url` is the full WebSocket URL; incoming frames above
    /// `max_frame_bytes` end the connection.
    pub fn new(url: impl Into<String>, max_frame_bytes: usize) -> WsConnector {
        WsConnector {
            url: url.into(),
            max_frame_bytes,
        }
    }
}

impl WsConnector {
    /// The gateway URL naming `document` in its `document` parameter (docs/
    /// protocol.md §2); any other parameter and a fragment are kept, a
    /// `document` already there is replaced. `None` for a URL that does
    /// not parse.
    fn routed_url(&self, document: DocumentId) -> Option<String> {
        let mut url = url::Url::parse(&self.url).ok()?;
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(name, _)| name != "document")
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair("document", &document.to_string());
        Some(url.into())
    }
}

#[async_trait]
impl Connector for WsConnector {
    async fn connect(&self, document: DocumentId) -> Result<Connection, TransportError> {
        let url = self
            .routed_url(document)
            .ok_or_else(|| TransportError::Refused(format!("not a URL: {}", self.url)))?;
        let config = WebSocketConfig::default()
            .read_buffer_size(SOCKET_READ_BUFFER_BYTES)
            .max_message_size(Some(self.max_frame_bytes))
            .max_frame_size(Some(self.max_frame_bytes));
        let (ws, _) = tokio_tungstenite::connect_async_with_config(&url, Some(config), true)
            .await
            .map_err(|e| match &e {
                WsError::Http(response) if response.status().is_client_error() => {
                    TransportError::Refused(format!("{e}"))
                }
                _ => TransportError::Unreachable(e.to_string()),
            })?;
        let (out_tx, mut out_rx) = mpsc::channel::<String>(CONNECTION_QUEUE_FRAMES);
        let (in_tx, in_rx) = mpsc::channel::<String>(CONNECTION_QUEUE_FRAMES);
        tokio::spawn(async move {
            let (mut sink, mut stream) = ws.split();
            loop {
                tokio::select! {
                    frame = out_rx.recv() => match frame {
                        Some(text) => {
                            if sink.send(Message::text(text)).await.is_err() {
                                break;
                            }
                        }
                        None => break,
                    },
                    message = stream.next() => match message {
                        Some(Ok(Message::Text(text))) => {
                            if in_tx.send(text.as_str().to_owned()).await.is_err() {
                                break;
                            }
                        }
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                        Some(Ok(_)) => {}
                    },
                }
            }
            let _ = sink.send(Message::Close(None)).await;
        });
        Ok(Connection {
            outgoing: out_tx,
            incoming: in_rx,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_names_the_document() {
        let doc: DocumentId = "0b7e1d2c-4f5a-4c3b-9d8e-1a2b3c4d5e6f".parse().unwrap();
        let routed = |url: &str| WsConnector::new(url, 1024).routed_url(doc);
        assert_eq!(
            routed("ws://h:1/api/ws").as_deref(),
            Some(format!("ws://h:1/api/ws?document={doc}").as_str())
        );
        // A query of its own is kept, an old `document` replaced, a fragment
        // stays last.
        assert_eq!(
            routed("ws://h:1/api/ws?region=eu&document=old#x").as_deref(),
            Some(format!("ws://h:1/api/ws?region=eu&document={doc}#x").as_str())
        );
        assert_eq!(routed("not a url"), None);
    }
}
