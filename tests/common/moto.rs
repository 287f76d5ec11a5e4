//! moto's server (`moto[dynamodb,events,sqs,server]`, pinned in
//! tests/state/requirements.txt, which `scripts/test` installs), started by
//! the tests on a free loopback port, for the state store's DynamoDB engine and EventBridge with SQS.
//!
//! moto runs in a Python wrapper that exits when its standard input closes,
//! so a server outlives neither its [`Moto`] nor the test process, even one
//! that aborts or is killed, and the shared one ([`Moto::shared`]) needs no
//! drop.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};

use super::scripts::{python, python_with};

/// moto's server, exiting when its standard input closes (the test
/// process ended or the [`Moto`] was dropped).
const LAUNCHER: &str = "\
import os, sys, threading
def watch():
    sys.stdin.read()
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
# moto's DynamoDB checks a condition and writes without a lock: on its
# server's threads, two conditional writes could both pass (DynamoDB's
# cannot). One lock around each item call makes each atomic, as DynamoDB's are.
import functools
from moto.dynamodb.models import DynamoDBBackend
lock = threading.RLock()
def atomic(call):
    @functools.wraps(call)
    def locked(*args, **kwargs):
        with lock:
            return call(*args, **kwargs)
    return locked
for name in ('put_item', 'get_item', 'query', 'update_item', 'delete_item'):
    setattr(DynamoDBBackend, name, atomic(getattr(DynamoDBBackend, name)))
from moto.server import main
main(['-H', '127.0.0.1', '-p', '0'])
";

/// The environment the gateway and its commands need to reach moto: dummy
/// credentials in moto's region.
pub const MOTO_ENV: [(&str, &str); 3] =
    [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_REGION", "us-east-1")];

/// How long moto may take to start (its imports take a second or two on an idle machine).
const START_LIMIT: Duration = Duration::from_secs(60);

/// A running moto server; killed when dropped.
pub struct Moto {
    child: Child,
    /// Closing it stops the server.
    _stdin: ChildStdin,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The last lines moto logged, for failure messages.
    log: Arc<Mutex<VecDeque<String>>>,
}

impl Moto {
    /// Whether moto can run here: `false` skips the test with a line saying
    /// so, unless `PRESIGN_GATEWAY_REQUIRE_ALL_TESTS` is set, which fails it.
    pub fn available() -> bool {
        static AVAILABLE: OnceLock<bool> = OnceLock::new();
        *AVAILABLE.get_or_init(|| python_with("moto.server, flask_cors"))
    }

    /// Starts a server of its own on a free port of 127.0.0.1.
    pub fn start() -> Self {
        let mut child = Command::new(python())
            .args(["-c", LAUNCHER])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start moto");
        let stdin = child.stdin.take().expect("moto's stdin");
        let stderr = child.stderr.take().expect("moto's stderr");
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let (started, endpoint) = mpsc::channel();
        let lines = log.clone();
        // Reads every line to the end, so moto never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("Running on http://") {
                    let _ = started.send(line[at + "Running on ".len()..].trim().to_owned());
                }
                let mut lines = lines.lock().unwrap();
                if lines.len() == 50 {
                    lines.pop_front();
                }
                lines.push_back(line);
            }
        });
        if let Ok(endpoint) = endpoint.recv_timeout(START_LIMIT) {
            return Self { child, _stdin: stdin, endpoint, log };
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("moto did not start within {START_LIMIT:?}: {:?}", log.lock().unwrap());
    }

    /// One server for every test of a test binary, started by the first, or
    /// `None` when moto is missing (see [`Moto::available`]).
    pub fn shared() -> Option<&'static Self> {
        static SHARED: OnceLock<Option<Moto>> = OnceLock::new();
        SHARED.get_or_init(|| Self::available().then(Self::start)).as_ref()
    }

    /// The AWS settings for moto: dummy credentials, us-east-1.
    pub async fn sdk_config() -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }

    /// A DynamoDB client for moto.
    pub async fn client(&self) -> aws_sdk_dynamodb::Client {
        let config =
            aws_sdk_dynamodb::config::Builder::from(&Self::sdk_config().await).endpoint_url(&self.endpoint).build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// Creates a fresh state table (hash key `pk`, range key `sk`, both
    /// strings, on demand, as the template's) and answers its name.
    pub async fn create_table(&self) -> String {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!("state-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("an attribute")
        };
        let key =
            |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build().expect("a key");
        self.client()
            .await
            .create_table()
            .table_name(&name)
            .attribute_definitions(attribute("pk"))
            .attribute_definitions(attribute("sk"))
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create table {name}: {e:?}; moto: {:?}", self.log.lock().unwrap()));
        name
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
