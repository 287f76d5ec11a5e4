//! The edges: how requests reach the gateway's router. Both transports build
//! the gateway with [`start`], from the validated configuration.

pub mod catalog;
pub mod event_bus;
pub mod keys;
pub mod lambda;
pub mod local;
pub mod observe;
pub mod processor;

use std::future::Future;
use std::sync::Arc;

use http::HeaderValue;
use tokio::task::JoinHandle;

use crate::aws;
use crate::catalog::processor::Processor;
use crate::config::{Config, Links, ShareCommand, StateConfig, StoreConfig};
use crate::gateway::Gateway;
use crate::links::records::LinkRecords;
#[cfg(feature = "embedded-store")]
use crate::signing::CredentialsCache;
#[cfg(feature = "embedded-store")]
use crate::store::EmbeddedStore;

/// A gateway ready to serve, and what runs beside it.
#[derive(Debug)]
pub struct Started {
    /// The gateway.
    pub gateway: Gateway,
    /// Where its storage is, in one line for the banner.
    pub storage: String,
    /// The embedded store's server, if there is one; it stops when `shutdown` does.
    pub store: Option<JoinHandle<()>>,
    /// The processor that keeps the upload log, when it is on (the embedded
    /// store already hands it each event).
    pub processor: Option<Processor>,
    /// Where the upload log is, in one line for the banner.
    pub catalog: String,
}

/// Starts the embedded store (letting pages from `page_origins`, the
/// gateway's own, reach it), or loads the AWS chain for external storage,
/// reads share keys from Secrets Manager when configured, opens the state
/// store, and builds the gateway that signs for the storage, with the upload
/// log when there is a state store.
pub async fn start(
    config: Config,
    page_origins: &[HeaderValue],
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Started> {
    let Config { store, mut gateway, share_keys_secret, server, storage_timeout, state, catalog: settings, .. } =
        config;
    let region = match &store {
        StoreConfig::External { region, .. } => region.as_deref(),
        StoreConfig::Embedded(_) => None,
    };
    let mut sdk = None;
    if let Some(arn) = &share_keys_secret {
        let loaded = sdk.insert(aws::sdk_config(region).await);
        gateway.links = Some(Links { keys: aws::share_keys_from_secret(loaded, arn).await? });
    }
    if matches!(state, StateConfig::Dynamo { .. }) && sdk.is_none() {
        sdk = Some(aws::sdk_config(region).await);
    }
    let catalog = crate::state::describe(&state);
    let state = crate::state::open(&state, sdk.as_ref()).await?;
    let stateful = Stateful {
        // API keys are read from the bearer token, which the gateway reads itself with --auth jwt only.
        api_keys: match (&state, &gateway.auth) {
            (Some(state), crate::auth::Authenticator::Jwt(_)) => {
                Some(Arc::new(crate::keys::ApiKeys::new(state.clone())))
            }
            _ => None,
        },
        link_records: state.clone().map(LinkRecords::new),
        presets: settings.names(),
    };
    gateway.keep_provider_fresh();
    let tenants = gateway.auth.has_tenants();
    let layout = catalog::layout(&gateway.policy, tenants);
    match &store {
        StoreConfig::External { endpoint, public_url, bucket, .. } => {
            let sdk = match sdk {
                Some(sdk) => sdk,
                None => aws::sdk_config(region).await,
            };
            let found = aws::bucket(&sdk, endpoint.as_deref(), public_url.as_deref(), bucket, storage_timeout)?;
            let wired = state.map(|state| catalog::wire(state, layout, found.storage.clone(), &settings));
            let gateway = Gateway::build(gateway, &found.location, found.credentials, found.storage).await?;
            Ok(Started {
                gateway: stateful.attach(gateway, wired.as_ref()),
                storage: format!("bucket `{bucket}` at {}", endpoint.as_deref().unwrap_or("AWS S3")),
                store: None,
                processor: wired.map(|wired| wired.processor),
                catalog,
            })
        }
        #[cfg(feature = "embedded-store")]
        StoreConfig::Embedded(embedded) => {
            let credentials = EmbeddedStore::random_credentials();
            // With the log on, the store hands it each event, renditions' own excepted.
            let quiet = state.as_ref().map(|_| layout.renditions());
            let opened = EmbeddedStore::open(
                embedded,
                credentials.clone(),
                &gateway.allowed_origins,
                page_origins,
                quiet.as_deref(),
            )
            .await?;
            let location = opened.location().clone();
            let storage = Arc::new(opened.storage(storage_timeout));
            let announce = Arc::new(catalog::SpoolAnnounce(opened.notices()));
            let wired = state.map(|state| {
                let mut wired = catalog::wire(state, layout, storage.clone(), &settings);
                wired.processor = wired.processor.announcing(announce);
                wired
            });
            let sink = wired
                .as_ref()
                .map(|wired| Arc::new(catalog::CatalogSink::of(&wired.processor)) as Arc<dyn crate::store::EventSink>);
            let gateway = Gateway::build(gateway, &location, CredentialsCache::new(credentials), storage).await?;
            Ok(Started {
                gateway: stateful.attach(gateway, wired.as_ref()),
                storage: format!(
                    "embedded store at {}, bucket `{}`, files in {}{}",
                    location.endpoint.as_deref().unwrap_or_default(),
                    embedded.bucket,
                    embedded.data_dir.display(),
                    if embedded.strict_signing { ", strict signing" } else { "" }
                ),
                store: Some(tokio::spawn(opened.serve(server, shutdown, sink))),
                processor: wired.map(|wired| wired.processor),
                catalog,
            })
        }
        #[cfg(not(feature = "embedded-store"))]
        StoreConfig::Embedded(_) => {
            drop((shutdown, server, page_origins, state, catalog, layout, settings, stateful));
            Err(crate::config::ConfigError::NoEmbeddedStore.into())
        }
    }
}

/// What the state store adds to a gateway: the upload log (with the
/// renditions it answers for), API keys, and share links' records.
struct Stateful {
    api_keys: Option<Arc<crate::keys::ApiKeys>>,
    link_records: Option<LinkRecords>,
    presets: Vec<String>,
}

impl Stateful {
    fn attach(self, gateway: Gateway, wired: Option<&catalog::Wired>) -> Gateway {
        gateway
            .with_link_records(self.link_records)
            .with_catalog(wired.map(|w| w.catalog.clone()), self.presets, wired.map(|w| w.processor.clone()))
            .with_api_keys(self.api_keys)
    }
}

/// `presign-gateway share`: the link, with its record written first when a
/// state store is named (no link is handed out without its record).
///
/// # Errors
/// The state store cannot be opened or written.
pub async fn share(command: ShareCommand) -> anyhow::Result<String> {
    let ShareCommand { keys, base_url, order, state } = command;
    let state = crate::state::open(&state, None).await?;
    let now = crate::state::now_seconds();
    let records = state.map(LinkRecords::new);
    let grant = order.grant(std::time::SystemTime::now(), records.as_ref().map(|_| LinkRecords::new_id(now)));
    if let Some(records) = &records {
        use anyhow::Context as _;
        let by = "presign-gateway share".to_owned();
        records.create(&grant, by, now, order.max_uses).await.context("cannot write the link's record")?;
    }
    Ok(keys.url(&base_url, &grant))
}
