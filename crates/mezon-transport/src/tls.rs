//! The rustls client configuration shared by HTTP and the socket: the ring provider, the
//! webpki roots, the user's extra roots and, with the `native-roots` feature, the system store.

use std::fmt;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use crate::config::TransportConfig;
use crate::error::SetupError;

/// Root certificates trusted in addition to the built-in webpki roots (self-hosted servers,
/// corporate proxies). `Debug` shows how many there are.
#[derive(Clone, Default, PartialEq)]
pub struct RootCertificates(Vec<CertificateDer<'static>>);

impl RootCertificates {
    /// Reads every `CERTIFICATE` block of `pem`. Fails when a block is malformed or there is
    /// none.
    pub fn from_pem(pem: &[u8]) -> Result<Self, SetupError> {
        let certificates = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SetupError::Tls(Arc::new(e)))?;
        if certificates.is_empty() {
            return Err(SetupError::NoCertificates);
        }
        Ok(Self(certificates))
    }

    /// Adds the certificates of `other`.
    pub(crate) fn extend(&mut self, other: Self) {
        self.0.extend(other.0);
    }

    /// How many certificates there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for RootCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RootCertificates({} certificates)", self.0.len())
    }
}

/// The rustls client configuration with the default roots only (ring provider, webpki
/// roots); prefer [`config_for`], which honours the extra roots of a [`TransportConfig`].
pub fn client_config() -> Result<rustls::ClientConfig, String> {
    config_for(&TransportConfig::default()).map_err(|e| e.to_string())
}

/// The rustls client configuration for `config`: ring provider, webpki roots, the extra
/// roots and (with the `native-roots` feature, when enabled) the system store.
pub fn config_for(config: &TransportConfig) -> Result<rustls::ClientConfig, SetupError> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for certificate in &config.root_certificates.0 {
        roots
            .add(certificate.clone())
            .map_err(|e| SetupError::Tls(Arc::new(e)))?;
    }
    #[cfg(feature = "native-roots")]
    if config.native_roots {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::warn!(%error, "a system root certificate could not be loaded");
        }
        let (added, ignored) = roots.add_parsable_certificates(found.certs);
        tracing::debug!(added, ignored, "system root certificates");
    }
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| SetupError::Tls(Arc::new(e)))?
    .with_root_certificates(roots)
    .with_no_client_auth())
}

/// Whether `error`'s chain holds a certificate verification failure.
pub(crate) fn is_certificate_error(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return is_certificate_failure(tls);
        }
        // `io::Error` hides its inner error from `source()` (it forwards the inner's source).
        if let Some(inner) = error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                return is_certificate_failure(tls);
            }
            if is_certificate_error(inner) {
                return true;
            }
        }
        current = error.source();
    }
    false
}

fn is_certificate_failure(error: &rustls::Error) -> bool {
    matches!(
        error,
        rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_without_certificates_is_an_error() {
        assert!(matches!(
            RootCertificates::from_pem(b"not pem"),
            Err(SetupError::NoCertificates)
        ));
        assert!(
            RootCertificates::from_pem(
                b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"
            )
            .is_err()
        );
    }

    #[test]
    fn certificate_errors_are_found_through_io_errors() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        assert!(is_certificate_error(&io));
        let other = std::io::Error::new(std::io::ErrorKind::InvalidData, "x");
        assert!(!is_certificate_error(&other));
    }
}
