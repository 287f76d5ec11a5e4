//! Claims from an API Gateway authorizer, as `lambda_http` exposes them: an
//! HTTP API JWT authorizer (`authorizer.jwt.claims`), a Lambda authorizer's
//! context (`authorizer.lambda` in payload 2.0, the authorizer object itself
//! in 1.0), or a REST API Cognito authorizer (`authorizer.claims`).

use std::collections::HashMap;

use http::request::Parts;
use lambda_http::request::RequestContext;
use serde_json::Value;

/// The caller's claims, or `None` when no authorizer vouched for it.
pub fn claims(request: &Parts) -> Option<HashMap<String, Value>> {
    let claims: HashMap<String, Value> = match request.extensions.get::<RequestContext>()? {
        RequestContext::ApiGatewayV2(context) => {
            let authorizer = context.authorizer.as_ref()?;
            match &authorizer.jwt {
                Some(jwt) => jwt.claims.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect(),
                None => authorizer.fields.clone(),
            }
        }
        RequestContext::ApiGatewayV1(context) => match context.authorizer.fields.get("claims") {
            Some(Value::Object(cognito)) => cognito.clone().into_iter().collect(),
            _ => context.authorizer.fields.clone(),
        },
        #[allow(unreachable_patterns)] // ALB has no authorizer; other front doors are compiled out.
        _ => return None,
    };
    (!claims.is_empty()).then_some(claims)
}
