//! The validation of `serve`'s settings, one rule at a time.

use clap::Parser;

use super::*;
use crate::cli::{Cli, Command};

fn config(argv: &[&str], runtime: Runtime) -> Result<Config, ConfigError> {
    let mut full = vec!["presign-gateway", "serve"];
    full.extend_from_slice(argv);
    let Some(Command::Serve(serve)) = Cli::parse_from(full).command else { unreachable!() };
    Config::from_args(serve, runtime)
}

fn error(argv: &[&str], runtime: Runtime) -> String {
    config(argv, runtime).unwrap_err().to_string()
}

/// Strict signing is the embedded store's: elsewhere it would promise a check nothing makes.
#[test]
fn strict_signing_needs_the_embedded_store() {
    let StoreConfig::Embedded(embedded) = config(&["--strict-signing"], Runtime::Local).unwrap().store else {
        panic!("not embedded")
    };
    assert!(embedded.strict_signing);
    let elsewhere = ["--strict-signing", "--endpoint", "http://127.0.0.1:9000", "--bucket", "files"];
    assert!(error(&elsewhere, Runtime::Local).contains("does not run with --endpoint"));
    assert!(error(&["--strict-signing", "--bucket", "files"], Runtime::Lambda).contains("does not run in Lambda"));
}

#[test]
fn defaults_start_the_embedded_store() {
    let config = config(&[], Runtime::Local).unwrap();
    assert_eq!(config.listen, vec!["127.0.0.1:3000".parse().unwrap()]);
    assert_eq!(config.gateway.policy.expires_in, Duration::from_secs(300));
    assert_eq!(config.gateway.allowed_origins, AllowedOrigins::None);
    assert_eq!(config.log.format, LogFormat::Text);
    let StoreConfig::Embedded(EmbeddedConfig { listen, bucket, .. }) = config.store else { panic!("not embedded") };
    assert_eq!(listen, vec!["127.0.0.1:0".parse().unwrap()]);
    assert_eq!(bucket, crate::cli::DEFAULT_EMBEDDED_BUCKET);
}

#[test]
fn an_endpoint_switches_to_external_storage() {
    let config = config(&["--endpoint", "http://minio:9000/", "--bucket", "files"], Runtime::Local).unwrap();
    let StoreConfig::External { endpoint, bucket, .. } = config.store else { panic!("not external") };
    assert_eq!(endpoint.as_deref(), Some("http://minio:9000"));
    assert_eq!(bucket, "files");
}

#[test]
fn metrics_are_off_locally_unless_asked_for_and_go_to_the_logs_in_lambda() {
    let local = config(&[], Runtime::Local).unwrap();
    assert_eq!(local.metrics_listen, None);
    assert_eq!(local.metrics_namespace.as_str(), "presign-gateway");
    let listening = config(&["--metrics-listen", "127.0.0.1:9090"], Runtime::Local).unwrap();
    assert_eq!(listening.metrics_listen, Some("127.0.0.1:9090".parse().unwrap()));
    let lambda = error(&["--bucket", "files", "--metrics-listen", "127.0.0.1:9090"], Runtime::Lambda);
    assert!(lambda.contains("in Lambda the metrics go out in the log lines"), "{lambda}");
}

#[test]
fn lambda_needs_a_bucket_and_logs_json() {
    assert_eq!(error(&[], Runtime::Lambda), "--bucket / BUCKET_NAME is required in Lambda");
    let config = config(&["--bucket", "files"], Runtime::Lambda).unwrap();
    assert_eq!(config.log.format, LogFormat::Json);
    assert!(matches!(config.store, StoreConfig::External { endpoint: None, .. }));
}

#[test]
fn wrong_settings_say_what_to_fix() {
    let cases: &[(&[&str], &str)] = &[
        (&["--expires", "0"], "--expires / EXPIRES_SECONDS must be between 1 and 604800"),
        (&["--expires", "604801"], "not 604801"),
        (&["--key-prefix", "../x"], "KEY_PREFIX is not a usable folder"),
        (&["--endpoint", "http://m:9000"], "BUCKET_NAME is required with --endpoint"),
        (&["--endpoint", "ftp://m", "--bucket", "b1b"], "AWS_ENDPOINT_URL_S3 `ftp://m` is not"),
        (&["--bucket", "Bad_Bucket"], "`Bad_Bucket` is not a bucket name"),
        (&["--store-url", "localhost:9000"], "STORE_URL `localhost:9000` is not"),
        (&["--allowed-origins", "https://a.example/path"], "entry `https://a.example/path` is not an origin"),
        (&["--listen", "0.0.0.0:3000"], "set --store-url / STORE_URL"),
        (&["--region", "EU West"], "`EU West` is not a region"),
        (&["--log-level", "info,[[["], "LOG_LEVEL `info,[[[` is not a valid filter"),
        (&["--metrics-namespace", "AWS/S3"], "METRICS_NAMESPACE: `AWS/S3` is not a CloudWatch namespace"),
        (&["--listen", "127.0.0.1:3000", "--metrics-listen", "127.0.0.1:3000"], "METRICS_LISTEN_ADDR must differ"),
        // Long enough that a link's expiry would overflow the clock.
        (&["--share-max-ttl", "200000000000000d"], "SHARE_MAX_TTL must be between one second and 100 years"),
        (&["--abort-incomplete-uploads-after", "0"], "ABORT_INCOMPLETE_UPLOADS_AFTER must be at least one second"),
        (&["--notify-url", "ftp://hooks.example"], "entry 1 of --notify-url / NOTIFY_URL is not"),
        (&["--notify-spool-limit", "0"], "NOTIFY_SPOOL_LIMIT must be at least 1"),
        (&["--allow-null-origin"], "for pages from --allowed-origins / ALLOWED_ORIGINS that follow a cross-origin 307"),
        (
            &["--endpoint", "http://m:9000", "--bucket", "files", "--allow-null-origin"],
            "that bucket's own CORS rules decide",
        ),
        (
            &["--endpoint", "http://m:9000", "--bucket", "files", "--notify-url", "http://127.0.0.1:8080/e"],
            "with --endpoint / AWS_ENDPOINT_URL_S3, events come from that store's own notification system",
        ),
    ];
    for (argv, message) in cases {
        let error = error(argv, Runtime::Local);
        assert!(error.contains(message), "{argv:?}: {error}");
    }
}

#[test]
fn upload_events_are_the_embedded_stores() {
    let config = config(&["--notify-url", "http://127.0.0.1:8080/e,http://127.0.0.1:9090/e"], Runtime::Local).unwrap();
    let StoreConfig::Embedded(EmbeddedConfig { notify, .. }) = config.store else { panic!("not embedded") };
    assert_eq!(notify.urls.len(), 2);
    assert_eq!(notify.spool_limit, 100_000);
    assert_eq!(notify.tenants, "tenants/");
    let folders =
        self::config(&["--key-prefix", "up", "--tenant-folder", "t/", "--notify-url", "http://h/e"], Runtime::Local);
    let StoreConfig::Embedded(EmbeddedConfig { notify, .. }) = folders.unwrap().store else { panic!("not embedded") };
    assert_eq!(notify.tenants, "up/t/");
    let error = error(&["--bucket", "files", "--notify-url", "http://127.0.0.1:8080/e"], Runtime::Lambda);
    assert!(error.contains("in Lambda, events come from S3 through EventBridge"), "{error}");
}

#[test]
fn origins_are_parsed() {
    let config = config(&["--allowed-origins", "https://a.example, http://127.0.0.1:8080/"], Runtime::Local).unwrap();
    assert_eq!(
        config.gateway.allowed_origins,
        AllowedOrigins::List(vec![
            HeaderValue::from_static("https://a.example"),
            HeaderValue::from_static("http://127.0.0.1:8080")
        ])
    );
    let any = self::config(&["--allowed-origins", "*"], Runtime::Local).unwrap();
    assert_eq!(any.gateway.allowed_origins, AllowedOrigins::Any);
}

#[test]
fn hosts_are_checked_locally_always_and_in_lambda_when_listed() {
    let local = config(&[], Runtime::Local).unwrap();
    assert!(local.gateway.allowed_hosts.is_some_and(|hosts| !hosts.admits(Some(b"evil.example"))));
    assert!(config(&["--bucket", "files"], Runtime::Lambda).unwrap().gateway.allowed_hosts.is_none());
    let listed = config(&["--bucket", "files", "--allowed-hosts", "files.example"], Runtime::Lambda).unwrap();
    let hosts = listed.gateway.allowed_hosts.unwrap();
    assert!(hosts.admits(Some(b"files.example")) && !hosts.admits(Some(b"evil.example")));
}

#[test]
fn server_and_body_limits_are_checked() {
    assert!(error(&["--max-header-bytes", "4KiB"], Runtime::Local).contains("--max-header-bytes"));
    assert!(error(&["--max-body-memory", "1MiB"], Runtime::Local).contains("at least 2MiB"));
    let limits = config(&["--max-header-bytes", "16KiB"], Runtime::Local).unwrap().server;
    assert_eq!((limits.max_header_bytes, limits.max_connections_per_address), (16 << 10, 256));
    assert_eq!(config(&[], Runtime::Local).unwrap().gateway.bodies, BodyLimits::default());
}

#[test]
fn a_null_origin_is_let_in_only_when_asked() {
    let null_origin = |argv: &[&str]| {
        let StoreConfig::Embedded(store) = config(argv, Runtime::Local).unwrap().store else { panic!() };
        store.allow_null_origin
    };
    assert!(!null_origin(&["--allowed-origins", "https://a.example"]));
    assert!(null_origin(&["--allowed-origins", "https://a.example", "--allow-null-origin"]));
    let lambda = error(&["--bucket", "files", "--allow-null-origin"], Runtime::Lambda);
    assert!(lambda.contains("template.yaml's AllowNullOrigin"), "{lambda}");
}

/// The embedded store keeps the catalog beside its buckets; an external
/// store has none unless a table or a folder is named; a table and a folder
/// exclude each other.
#[test]
fn the_state_store_follows_the_storage_unless_named() {
    let state = |argv: &[&str], runtime| config(argv, runtime).map(|config| config.state);
    let external = ["--endpoint", "http://minio:9000", "--bucket", "files"];
    assert_eq!(state(&["--data-dir", "d"], Runtime::Local).unwrap(), StateConfig::Local { dir: "d".into() });
    assert_eq!(state(&external, Runtime::Local).unwrap(), StateConfig::Off);
    assert_eq!(state(&["--bucket", "files"], Runtime::Lambda).unwrap(), StateConfig::Off);
    let with_dir = [&external[..], &["--state-dir", "/var/state"]].concat();
    assert_eq!(state(&with_dir, Runtime::Local).unwrap(), StateConfig::Local { dir: "/var/state".into() });
    assert_eq!(state(&["--state-dir", "s"], Runtime::Local).unwrap(), StateConfig::Local { dir: "s".into() });
    let table = ["--state-table", "presign-gateway_state.1", "--state-endpoint", "http://127.0.0.1:8000/"];
    let dynamo =
        StateConfig::Dynamo { table: "presign-gateway_state.1".into(), endpoint: Some("http://127.0.0.1:8000".into()) };
    assert_eq!(state(&table, Runtime::Local).unwrap(), dynamo);
    assert_eq!(state(&[&external[..], &table[..]].concat(), Runtime::Local).unwrap(), dynamo);
    let lambda = state(&["--bucket", "files", "--state-table", "t01"], Runtime::Lambda).unwrap();
    assert_eq!(lambda, StateConfig::Dynamo { table: "t01".into(), endpoint: None });
    let both = ["presign-gateway", "serve", "--state-table", "t01", "--state-dir", "s"];
    assert!(Cli::try_parse_from(both).is_err(), "a table and a folder exclude each other");
}

#[test]
fn state_settings_are_checked_once() {
    for bad in ["ab", "has space", "ünï", "a/b", &"t".repeat(256)] {
        let message = error(&["--state-table", bad], Runtime::Local);
        assert!(message.contains("is not a DynamoDB table name"), "{bad}: {message}");
    }
    assert!(config(&["--state-table", &"t".repeat(255)], Runtime::Local).is_ok());
    let endpoint = error(&["--state-table", "t01", "--state-endpoint", "localhost:8000"], Runtime::Local);
    assert!(endpoint.contains("--state-endpoint / AWS_ENDPOINT_URL_DYNAMODB `localhost:8000` is not"), "{endpoint}");
    let alone = error(&["--state-endpoint", "http://127.0.0.1:8000"], Runtime::Local);
    assert!(alone.contains("needs --state-table / STATE_TABLE"), "{alone}");
    let lambda = error(&["--bucket", "files", "--state-dir", "/tmp/state"], Runtime::Lambda);
    assert!(lambda.contains("--state-dir / STATE_DIR does not run in Lambda"), "{lambda}");
}

#[test]
fn a_rate_limit_is_per_process_so_local_only() {
    let limit = |argv: &[&str]| config(argv, Runtime::Local).unwrap().gateway.rate_limit;
    assert_eq!(limit(&[]), None);
    let doubled = limit(&["--rate-limit", "20"]).unwrap();
    assert_eq!((doubled.per_second.get(), doubled.burst.get()), (20, 40), "the burst is twice the rate unless given");
    let given = limit(&["--rate-limit", "20", "--rate-burst", "5"]).unwrap();
    assert_eq!((given.per_second.get(), given.burst.get()), (20, 5));
    assert!(error(&["--rate-limit", "0"], Runtime::Local).contains("at least 1"));
    assert!(error(&["--rate-limit", "2", "--rate-burst", "0"], Runtime::Local).contains("at least 1"));
    assert!(error(&["--rate-burst", "5"], Runtime::Local).contains("needs --rate-limit"));
    let lambda = error(&["--bucket", "files", "--rate-limit", "5"], Runtime::Lambda);
    assert!(lambda.contains("in Lambda every instance would count apart"), "{lambda}");
}

/// The page's sign-in: with `--auth jwt` it shares the verifier's keys; with
/// `--auth authorizer` (Lambda) it only tells the page; never with `--auth none`.
#[test]
fn sign_in_goes_with_an_authenticated_mode() {
    let issuer = ["--oidc-issuer", "https://login.example.com/realms/files", "--oidc-client-id", "page"];
    let jwt = config(&[&["--auth", "jwt"][..], &issuer].concat(), Runtime::Local).unwrap();
    let sign_in = jwt.gateway.sign_in.as_ref().unwrap();
    assert_eq!((sign_in.client_id.as_deref(), sign_in.token), (Some("page"), OidcToken::Id));
    let Authenticator::Jwt(verifier) = &jwt.gateway.auth else { panic!("not jwt") };
    assert!(verifier.remote_keys().unwrap().same_as(&sign_in.provider), "one fetch of the provider's keys");
    assert!(!verifier.ready(), "no token is checked before the keys are fetched");

    let lambda = [&["--auth", "authorizer", "--bucket", "files", "--oidc-token", "access"][..], &issuer].concat();
    let behind_api_gateway = config(&lambda, Runtime::Lambda).unwrap();
    assert!(behind_api_gateway.gateway.auth.ready(), "API Gateway checks the tokens");
    assert_eq!(behind_api_gateway.gateway.sign_in.unwrap().token, OidcToken::Access);

    assert!(error(&issuer, Runtime::Local).contains("needs --auth jwt"));
    let blank = ["--auth", "jwt", "--oidc-issuer", "https://login.example.com", "--oidc-client-id", " "];
    assert!(error(&blank, Runtime::Local).contains("--oidc-client-id"));
}

/// A token setting without `--auth jwt` would leave the gateway open (or
/// behind API Gateway's authorizer) while its operator thinks it checks tokens.
#[test]
fn token_settings_need_auth_jwt() {
    let open = error(&["--jwks-url", "https://login.example.com/keys"], Runtime::Local);
    assert!(
        open.contains("--jwks-url / JWKS_URL applies to --auth jwt only") && open.contains("--auth none"),
        "{open}"
    );
    let secret = error(&["--jwt-secret", "a secret of thirty-two bytes or more!!"], Runtime::Local);
    assert!(secret.contains("--jwt-secret / JWT_SECRET applies to --auth jwt only"), "{secret}");
    let lambda = error(&["--bucket", "files", "--auth", "authorizer", "--jwt-audience", "app"], Runtime::Lambda);
    assert!(lambda.contains("--jwt-audience / JWT_AUDIENCE") && lambda.contains("--auth authorizer"), "{lambda}");
    let jwt = ["--auth", "jwt", "--jwt-secret", "a secret of thirty-two bytes or more!!", "--jwt-audience", "app"];
    assert!(config(&jwt, Runtime::Local).is_ok());
}
