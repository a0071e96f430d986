//! Opening WebSocket connections for the load generator: loopback only in practice, with
//! Nagle's algorithm off so that one small frame leaves at once (latency is what we measure).

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::target::LoadError;

/// A client WebSocket.
pub type WsStream = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// Read buffer per connection. The library's default (128 KiB) costs 2.5 GiB at 20,000
/// connections; 8 KiB (160 MiB there) holds a whole `ops` frame of a busy document (tens of
/// entries) in one read, and larger frames still grow the buffer.
const READ_BUFFER_BYTES: usize = 8 * 1024;

/// Connects to `url` (`ws://...`).
pub async fn connect(url: &str) -> Result<WsStream, LoadError> {
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0);
    let (ws, _response) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .map_err(|e| LoadError::Connect(format!("{url}: {e}")))?;
    Ok(ws)
}

/// Sends one text frame.
pub async fn send_text(ws: &mut WsStream, frame: String) -> Result<(), LoadError> {
    ws.send(Message::text(frame))
        .await
        .map_err(|e| LoadError::Connect(format!("send: {e}")))
}

/// The next text frame; `Ok(None)` when the server closed the connection. Pings and pongs are
/// answered by the library and skipped here.
pub async fn next_text(ws: &mut WsStream) -> Result<Option<String>, LoadError> {
    while let Some(message) = ws.next().await {
        match message.map_err(|e| LoadError::Connect(format!("receive: {e}")))? {
            Message::Text(text) => return Ok(Some(text.as_str().to_owned())),
            Message::Close(_) => return Ok(None),
            Message::Binary(_) => {
                return Err(LoadError::Protocol("unexpected binary frame".into()));
            }
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }
    Ok(None)
}

/// How long a graceful close waits for the server's side of the closing handshake.
const CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Closes with a Close frame and waits (bounded) until the server has closed too. Servers that
/// crash on a write to a vanished peer (the ShareDB peer has no error handler on its streams)
/// stay up this way.
pub async fn close_gracefully(ws: &mut WsStream) {
    if ws.close(None).await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

/// The WebSocket URL for `path` on the server at `base` (`http://host:port` or `ws://...`).
pub fn ws_url(base: &str, path: &str) -> Result<String, LoadError> {
    let bad = |why: &str| LoadError::BadUrl(base.to_owned(), why.to_owned());
    let (scheme, rest) = base.split_once("://").ok_or_else(|| bad("no scheme"))?;
    let scheme = match scheme {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        _ => return Err(bad("scheme must be http, https, ws or wss")),
    };
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains('/') {
        return Err(bad("expected scheme://host:port with no path"));
    }
    Ok(format!("{scheme}://{authority}{path}"))
}

/// A short random tag that keeps ids of different runs apart.
pub fn run_tag() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..8)
        .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_http_urls_to_websocket_urls() {
        assert_eq!(
            ws_url("http://127.0.0.1:8080", "/api/ws").unwrap(),
            "ws://127.0.0.1:8080/api/ws"
        );
        assert_eq!(ws_url("https://h:1/", "/x").unwrap(), "wss://h:1/x");
        assert_eq!(ws_url("ws://h:2", "/").unwrap(), "ws://h:2/");
        for bad in ["127.0.0.1:8080", "ftp://h", "http://", "http://h/p"] {
            assert!(ws_url(bad, "/").is_err(), "{bad}");
        }
    }
}
