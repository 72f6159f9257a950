//! [`ApiClient`]: every method of the protocol's API table, typed, on an owned handle.

use mezon_transport::{ApiError, TransportHandle};

/// Typed access to every API method (`api-methods.tsv`), for what the handles do not cover.
/// Methods with a socket index go over the socket, the others over HTTP.
///
/// ```no_run
/// # async fn demo(client: mezon::Client) -> Result<(), mezon::Error> {
/// let clans = client.api()?.list_clan_descs(Default::default()).await?;
/// println!("{} clans", clans.clandesc.len());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ApiClient {
    handle: TransportHandle,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient").finish_non_exhaustive()
    }
}

impl ApiClient {
    pub(crate) fn new(handle: TransportHandle) -> Self {
        Self { handle }
    }

    /// Calls any method by its marker type, e.g.
    /// `api.call::<mezon::transport::api::methods::ListRoles>(req)`.
    pub async fn call<M: mezon_transport::api::ApiMethod>(
        &self,
        request: M::Request,
    ) -> Result<M::Response, ApiError> {
        self.handle.call::<M>(request).await
    }
}

macro_rules! api_client_methods {
    ($(($fn_name:ident, $marker:ident, $request:ty, $response:ty)),* $(,)?) => {
        impl ApiClient {
            $(
                #[doc = concat!("Calls `", stringify!($marker), "`.")]
                pub async fn $fn_name(&self, request: $request) -> Result<$response, ApiError> {
                    self.handle
                        .call::<mezon_transport::api::methods::$marker>(request)
                        .await
                }
            )*
        }
    };
}

mezon_transport::for_each_api_method!(api_client_methods);
