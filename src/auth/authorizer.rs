//! Claims an API Gateway authorizer vouched for (an HTTP API JWT authorizer,
//! a Lambda authorizer's context, a REST API Cognito authorizer). The Lambda
//! transport reads them from the event and hands them over as this request
//! extension, so authentication knows nothing of Lambda.

use std::collections::HashMap;

use serde_json::Value;

/// The caller's claims, as the front door's authorizer gave them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthorizerClaims(pub HashMap<String, Value>);
