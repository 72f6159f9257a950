//! TLS mode: a self-signed certificate made at start, and a TLS front that terminates
//! connections and relays them to the plaintext server behind it, so HTTPS logins and `wss`
//! sockets meet exactly the server every other test uses.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_util::sync::CancellationToken;

use crate::config::ServerConfig;
use crate::error::StartError;
use crate::server::TestServer;

impl TestServer {
    /// Starts the server behind TLS on 127.0.0.1 with a certificate made now for `127.0.0.1`
    /// and `localhost`. Returns the server (its [`base_url`](Self::base_url) is `https://…`
    /// and its sessions name `https`/`wss` addresses) and the certificate in PEM, which a
    /// client must trust to connect.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), mezon_test_server::StartError> {
    /// let (server, certificate_pem) =
    ///     mezon_test_server::TestServer::start_tls(Default::default()).await?;
    /// assert!(server.base_url().starts_with("https://"));
    /// # let _ = certificate_pem; Ok(()) }
    /// ```
    pub async fn start_tls(config: ServerConfig) -> Result<(Self, String), StartError> {
        let with_scheme = config.ws_url_with_scheme;
        let verbatim_ws_url = config.session_ws_url.clone();
        let mut server = Self::start(ServerConfig {
            port: None,
            ..config.clone()
        })
        .await?;
        let port = config.port.unwrap_or(0);
        let certified =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
                .map_err(|e| StartError::Tls(Box::new(e)))?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let mut tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| StartError::Tls(Box::new(e)))?
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .map_err(|e| StartError::Tls(Box::new(e)))?;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let wanted = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let bind_error = |source| StartError::Bind {
            addr: wanted,
            source,
        };
        let listener = TcpListener::bind(wanted).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let ws_url = match (verbatim_ws_url, with_scheme) {
            (Some(verbatim), _) => verbatim,
            (None, true) => format!("wss://{addr}"),
            (None, false) => addr.to_string(),
        };
        let shutdown = server.shared().shutdown.clone();
        tokio::spawn(front(
            listener,
            TlsAcceptor::from(Arc::new(tls)),
            server.addr(),
            shutdown,
        ));
        server.set_public_urls(format!("https://{addr}"), ws_url);
        Ok((server, certified.cert.pem()))
    }
}

/// Accepts TLS connections and relays each to the plaintext server at `backend`.
async fn front(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    backend: SocketAddr,
    shutdown: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((tcp, _)) = accepted else {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let acceptor = acceptor.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let relay = async {
                // A client that does not trust the certificate fails the handshake here.
                let mut client = acceptor.accept(tcp).await.ok()?;
                let mut server = TcpStream::connect(backend).await.ok()?;
                tokio::io::copy_bidirectional(&mut client, &mut server)
                    .await
                    .ok()
            };
            tokio::select! {
                () = shutdown.cancelled() => {}
                _ = relay => {}
            }
        });
    }
}
