//! The webhook client connects only to the addresses it checked: a host name that resolves to
//! a private address is refused by the resolver the connection itself uses, so a name cannot
//! pass a check with one address and connect to another (DNS rebinding).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A receiver on loopback answering 204 to anything; counts the connections it accepted.
async fn receiver() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n").await;
        }
    });
    (port, accepted)
}

#[tokio::test]
async fn a_name_resolving_to_a_private_address_is_never_connected_to() {
    let (port, accepted) = receiver().await;
    let url = format!("http://localhost:{port}/hook");

    let refused = jobs::webhooks::client(false).unwrap().post(&url).body("{}").send().await.unwrap_err();
    let chain = std::iter::successors(Some(&refused as &dyn std::error::Error), |e| e.source()).map(ToString::to_string).collect::<Vec<_>>().join(": ");
    assert!(chain.contains("localhost resolves to") && chain.contains("a private address"), "{chain}");
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "no connection was made");

    let allowed = jobs::webhooks::client(true).unwrap().post(&url).body("{}").send().await.unwrap();
    assert_eq!(allowed.status().as_u16(), 204, "with private addresses allowed the same name is reached");
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}
