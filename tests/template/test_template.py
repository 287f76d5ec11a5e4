"""Checks template.yaml and stackery/ offline: no AWS calls, no credentials.

cfn-lint validates the template, but it does not look far enough inside SAM
resources to notice a wrong runtime, architecture or IAM action. So the
template is also translated to plain CloudFormation with aws-sam-translator,
its conditions (and Rules) are evaluated for each front door, with and without
the JWT authorizer, and what matters is asserted on the result. The function's
environment is checked against the names the binary itself reads
(`presign-gateway serve --help`), and the share-key formats the template
generates and the sizes MaxObjectSize lets through against `presign-gateway share`.

Run from the repository root:  python -m pytest tests/template -q
(needs tests/template/requirements.txt and a built binary, see `gateway_binary`).
"""

from __future__ import annotations

import copy
import json
import os
import re
import secrets
import shlex
import shutil
import string
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest
from cfnlint.api import lint_file
from cfnlint.config import ManualArgs
from cfnlint.decode import cfn_yaml
from samtranslator.translator.transform import transform

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
STACKERY = REPO / "stackery"
ENVIRONMENTS = STACKERY / "environments"
PREBUILD = STACKERY / "deployHooks" / "prebuild.sh"
DEPLOY = STACKERY / "deploy"

FUNCTION = "GatewayFunction"
PROCESSOR = "ProcessorFunction"
API_TYPES = ["HTTP", "REST"]
REQUIRED_ENV = {
    "BUCKET_NAME",
    "EXPIRES_SECONDS",
    "KEY_PREFIX",
    "ALLOWED_ORIGINS",
    "LOG_LEVEL",
    "AUTH_MODE",
    "TENANT_CLAIM",
    "TENANT_FOLDER",
    "SHARE_KEYS_SECRET_ARN",
    "SHARE_MAX_TTL",
    "METRICS_NAMESPACE",
}
# Secrets the binary reads: a Lambda environment variable is plain text to
# anyone who may read the function's configuration, so never set them there.
SECRET_ENV = {"JWT_SECRET", "SHARE_KEYS", "NOTIFY_SECRET"}
# Only read with AUTH_MODE=jwt, which the template sets with ApiKeys Enabled only.
JWT_MODE_ENV = {"JWT_PUBLIC_KEY", "JWT_ISSUER", "JWT_AUDIENCE"}
# Read by the binary but wrong in Lambda: they would start or point at a local
# store, or are reserved by Lambda (AWS_REGION) and fail the deployment.
LOCAL_ONLY_ENV = {
    "LISTEN_ADDR",
    "DATA_DIR",
    "STORE_LISTEN_ADDR",
    "STORE_URL",
    "LOG_FORMAT",
    "AWS_ENDPOINT_URL_S3",
    "AWS_REGION",
    "METRICS_LISTEN_ADDR",
    # The embedded store's upload events; in Lambda, S3 sends them (UploadEventsTarget).
    "NOTIFY_URL",
    "NOTIFY_SPOOL_LIMIT",
}
# What the gateway signs (GetObject, PutObject for whole objects and UploadPart,
# DeleteObject) and the multipart steps it calls itself: CreateMultipartUpload
# and CompleteMultipartUpload are s3:PutObject, ListParts is
# s3:ListMultipartUploadParts, AbortMultipartUpload is its own action.
OBJECT_ACTIONS = {
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
}
LIST_ACTIONS = {"s3:ListBucket"}
LOG_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}
SECRET_ACTIONS = {"secretsmanager:GetSecretValue"}
# Items of the state table, for both functions: no Scan, no BatchWriteItem
# (writes are conditional on `version`), no table or index administration.
STATE_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
}
PSEUDO = {"AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::StackName", "AWS::URLSuffix", "AWS::NoValue", "AWS::StackId"}
NO_VALUE = object()
DOMAIN = {
    "DomainName": "files.example.com",
    "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000000",
    "BasePath": "files",
}
JWT = {
    "AuthMode": "authorizer",
    "JwtIssuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example",
    "JwtAudience": "client-one,client-two",
}
COGNITO = {"AuthMode": "authorizer", "CognitoUserPool": "Enabled", "CognitoDomainPrefix": "files-example"}
LAMBDA_TARGET = "arn:aws:lambda:us-east-1:123456789012:function:on-upload"
QUEUE_TARGET = "arn:aws:sqs:us-east-1:123456789012:uploads"
TOPIC_TARGET = "arn:aws:sns:us-east-1:123456789012:uploads"
EVENTS = {"UploadEventsTarget": LAMBDA_TARGET, "KeyPrefix": "uploads/"}
NO_CATALOG = {"Catalog": "Disabled"}
# (ApiType, other parameter values): every front door the template can build,
# the optional upload events, and the catalog off and on (the default), with
# its optional reserved concurrency and alarm.
CONFIGURATIONS = [
    ("HTTP", {}),
    ("REST", {}),
    ("HTTP", DOMAIN),
    ("REST", DOMAIN),
    ("HTTP", JWT),
    ("HTTP", {**JWT, **DOMAIN}),
    ("HTTP", COGNITO),
    ("HTTP", {**COGNITO, **DOMAIN}),
    ("HTTP", EVENTS),
    ("REST", {**EVENTS, "UploadEventsTarget": QUEUE_TARGET}),
    ("HTTP", NO_CATALOG),
    ("REST", {**EVENTS, **NO_CATALOG}),
    ("HTTP", {"ProcessorReservedConcurrency": "10", "Alarms": "Enabled", "KeyPrefix": "uploads/"}),
]
CONFIGURATION_IDS = [
    "http",
    "rest",
    "http-domain",
    "rest-domain",
    "http-jwt",
    "http-jwt-domain",
    "http-cognito",
    "http-cognito-domain",
    "http-events-lambda",
    "rest-events-queue",
    "http-no-catalog",
    "rest-events-no-catalog",
    "http-catalog-reserved-alarms",
]


# ---- loading, translating, evaluating ---------------------------------------


def load_template() -> dict[str, Any]:
    """template.yaml through cfn-lint's loader (it knows !Ref, !Sub, ...), as plain data."""
    return json.loads(json.dumps(cfn_yaml.load(str(TEMPLATE))))


class NoManagedPolicies:
    """Managed-policy loader for the translator that never calls IAM."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="module")
def source() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def translated(source: dict[str, Any]) -> dict[str, Any]:
    return translate(source)


def translate(source: dict[str, Any], **parameter_values: str) -> dict[str, Any]:
    """The SAM template as plain CloudFormation, as `sam deploy` would hand it over with these values."""
    template = copy.deepcopy(source)
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    for function in functions:
        code_uri = function["Properties"]["CodeUri"]
        assert isinstance(code_uri, str) and (REPO / code_uri / "Cargo.toml").is_file(), (
            f"CodeUri {code_uri!r} must be the crate root (where Cargo.toml is) for rust-cargolambda"
        )
        # `sam package` would replace the local path with an S3 object; do the same.
        function["Properties"]["CodeUri"] = "s3://placeholder-artifacts/presign-gateway.zip"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.delenv(name, raising=False)
        return transform(template, parameter_values, NoManagedPolicies())


def parameter_values(template: dict[str, Any], **overrides: Any) -> dict[str, str]:
    values = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    unknown = set(overrides) - set(values)
    assert not unknown, f"not parameters of the template: {sorted(unknown)}"
    values.update({name: str(value) for name, value in overrides.items()})
    return values


def broken_rules(template: dict[str, Any], **overrides: Any) -> list[str]:
    """The template's Rules, evaluated as CloudFormation would before deploying: what fails."""
    params = parameter_values(template, **overrides)
    broken = []
    for rule in template.get("Rules", {}).values():
        if "RuleCondition" in rule and not condition_true(rule["RuleCondition"], params, {}):
            continue
        broken += [a["AssertDescription"] for a in rule["Assertions"] if not condition_true(a["Assert"], params, {})]
    return broken


def condition_true(expr: Any, params: dict[str, str], conditions: dict[str, Any]) -> bool:
    if isinstance(expr, dict) and len(expr) == 1:
        ((fn, arg),) = expr.items()
        if fn == "Fn::Equals":
            left, right = (resolve(a, params, conditions) for a in arg)
            return str(left) == str(right)
        if fn == "Fn::Not":
            return not condition_true(arg[0], params, conditions)
        if fn == "Fn::And":
            return all(condition_true(a, params, conditions) for a in arg)
        if fn == "Fn::Or":
            return any(condition_true(a, params, conditions) for a in arg)
        if fn == "Condition":
            return condition_true(conditions[arg], params, conditions)
    raise AssertionError(f"condition this test cannot evaluate: {expr!r}")


def resolve(value: Any, params: dict[str, str], conditions: dict[str, Any]) -> Any:
    """Resolves parameters, Fn::If, and Sub/Split over parameters; leaves resource references."""
    if isinstance(value, list):
        items = [resolve(v, params, conditions) for v in value]
        return [v for v in items if v is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref" and arg == "AWS::NoValue":
            return NO_VALUE
        if fn == "Ref" and arg in params:
            return params[arg]
        if fn == "Fn::If":
            chosen = arg[1] if condition_true(conditions[arg[0]], params, conditions) else arg[2]
            return resolve(chosen, params, conditions)
        if fn == "Fn::Sub" and isinstance(arg, str):
            text = re.sub(r"\$\{([A-Za-z0-9]+)\}", lambda m: params.get(m.group(1), m.group(0)), arg)
            return text if "${" not in text else {"Fn::Sub": text}
        if fn == "Fn::Select":
            index, items = resolve(arg[0], params, conditions), resolve(arg[1], params, conditions)
            return items[int(index)] if isinstance(items, list) else {"Fn::Select": [index, items]}
        if fn == "Fn::Split":
            delimiter, text = arg[0], resolve(arg[1], params, conditions)
            return text.split(delimiter) if isinstance(text, str) else {"Fn::Split": [delimiter, text]}
    out = {k: resolve(v, params, conditions) for k, v in value.items()}
    return {k: v for k, v in out.items() if v is not NO_VALUE}


class Stack:
    """The resources and outputs CloudFormation would create for one set of parameter values."""

    def __init__(self, template: dict[str, Any], **overrides: Any) -> None:
        self.params = parameter_values(template, **overrides)
        conditions = template.get("Conditions", {})

        def present(item: dict[str, Any]) -> bool:
            return "Condition" not in item or condition_true(conditions[item["Condition"]], self.params, conditions)

        self.resources = {
            name: resolve(r, self.params, conditions) for name, r in template["Resources"].items() if present(r)
        }
        self.outputs = {
            name: resolve(o, self.params, conditions) for name, o in template.get("Outputs", {}).items() if present(o)
        }

    def of_type(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r["Type"] == type_name}

    def one(self, type_name: str) -> tuple[str, dict[str, Any]]:
        found = self.of_type(type_name)
        assert len(found) == 1, f"expected one {type_name}, found {sorted(found)}"
        return next(iter(found.items()))


def references(value: Any) -> Iterator[str]:
    """Logical ids that Ref, GetAtt and Sub point at."""
    if isinstance(value, list):
        for v in value:
            yield from references(v)
    elif isinstance(value, dict):
        for fn, arg in value.items():
            if fn == "Ref" and isinstance(arg, str):
                yield arg
            elif fn == "Fn::GetAtt":
                yield arg[0] if isinstance(arg, list) else arg.split(".")[0]
            elif fn == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                yield from (m.split(".")[0] for m in re.findall(r"\$\{([^!][^}]*)\}", text))
                if not isinstance(arg, str):
                    yield from references(arg[1])
            elif fn == "DependsOn":
                yield from ([arg] if isinstance(arg, str) else arg)
            else:
                yield from references(arg)


def is_ref(value: Any, name: str) -> bool:
    return value == {"Ref": name}


def is_getatt(value: Any, name: str, attribute: str) -> bool:
    return value in ({"Fn::GetAtt": [name, attribute]}, {"Fn::GetAtt": f"{name}.{attribute}"})


def function_arn_in(value: Any) -> bool:
    """True if `value` is the function's ARN, directly or inside an invocation URI."""
    if is_getatt(value, FUNCTION, "Arn"):
        return True
    return isinstance(value, dict) and "Fn::Sub" in value and f"${{{FUNCTION}.Arn}}" in str(value["Fn::Sub"])


def errors_and_warnings(path: Path) -> list[str]:
    matches = lint_file(path, ManualArgs(regions=["us-east-1", "eu-west-1"]))
    return [
        f"{m.rule.id} {m.message} ({path.name}:{m.linenumber})"
        for m in matches
        if m.rule.id[:1] in ("E", "W")
    ]


# ---- cfn-lint ------------------------------------------------------------------


def test_cfn_lint_passes_on_the_sam_template() -> None:
    problems = errors_and_warnings(TEMPLATE)
    assert not problems, "cfn-lint on template.yaml:\n" + "\n".join(problems)


def test_cfn_lint_passes_on_the_translated_template(translated: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "translated.json"
    out.write_text(json.dumps(translated, indent=1))
    problems = errors_and_warnings(out)
    assert not problems, "cfn-lint on the translated template:\n" + "\n".join(problems)


# ---- the function ----------------------------------------------------------------


def test_function_runs_the_arm64_custom_runtime(source: dict[str, Any], translated: dict[str, Any]) -> None:
    assert source["Resources"][FUNCTION]["Metadata"]["BuildMethod"] == "rust-cargolambda"
    functions = {n: r for n, r in translated["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    assert sorted(functions) == sorted([FUNCTION, PROCESSOR]), f"found {sorted(functions)}"
    props = functions[FUNCTION]["Properties"]
    assert props["Runtime"] == "provided.al2023"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "bootstrap"
    assert props["MemorySize"] == 128
    assert props["Timeout"] == 29
    # The processor is the same binary, built the same way (so `sam build`
    # builds it once); FUNCTION_ROLE picks its part.
    gateway, processor = source["Resources"][FUNCTION], source["Resources"][PROCESSOR]
    assert processor["Metadata"] == gateway["Metadata"]
    assert processor["Properties"]["CodeUri"] == gateway["Properties"]["CodeUri"]
    processor_props = functions[PROCESSOR]["Properties"]
    for name in ("Runtime", "Architectures", "Handler", "Code"):
        assert processor_props[name] == props[name], f"the processor's {name} differs from the gateway's"


@pytest.mark.parametrize("function", [FUNCTION, PROCESSOR])
def test_function_logs_to_its_log_group_with_retention(translated: dict[str, Any], function: str) -> None:
    stack = Stack(translated)
    props = stack.resources[function]["Properties"]
    log_group = props["LoggingConfig"]["LogGroup"]
    assert isinstance(log_group, dict) and "Ref" in log_group, "LoggingConfig.LogGroup must name the stack's log group"
    group = stack.resources[log_group["Ref"]]
    assert group["Type"] == "AWS::Logs::LogGroup"
    retention = translated["Resources"][log_group["Ref"]]["Properties"]["RetentionInDays"]
    assert isinstance(retention, dict) and "Ref" in retention, "RetentionInDays must come from a parameter"
    retention_param = translated["Parameters"][retention["Ref"]]
    assert retention_param["Type"] == "Number"
    assert {1, 7, 30, 90, 365} <= {int(v) for v in retention_param["AllowedValues"]}


# ---- least privilege ---------------------------------------------------------


def role_statements(stack: Stack, function: str = FUNCTION) -> list[dict[str, Any]]:
    role_arn = stack.resources[function]["Properties"]["Role"]
    assert isinstance(role_arn, dict) and "Fn::GetAtt" in role_arn, "the function's role must be the stack's own"
    role_name = next(references(role_arn))
    role = stack.resources[role_name]
    assert role["Type"] == "AWS::IAM::Role"
    props = role["Properties"]
    assert not props.get("ManagedPolicyArns"), "no managed policies: they grant more than the function needs"
    attached = [
        name
        for name, r in stack.resources.items()
        if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        and role_name in set(references(r["Properties"].get("Roles", [])))
    ]
    assert not attached, f"policies attached to the role from elsewhere: {attached}"
    statements = []
    for policy in props.get("Policies", []):
        body = policy["PolicyDocument"]["Statement"]
        statements.extend(body if isinstance(body, list) else [body])
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("catalog", ["Enabled", "Disabled"])
@pytest.mark.parametrize("key_prefix", ["", "uploads/"])
@pytest.mark.parametrize("overrides", [{}, JWT], ids=["no-auth", "jwt"])
def test_role_may_only_act_on_the_buckets_objects(
    translated: dict[str, Any], key_prefix: str, overrides: dict[str, str], catalog: str
) -> None:
    stack = Stack(translated, KeyPrefix=key_prefix, Catalog=catalog, **overrides)
    bucket_name = stack.resources[FUNCTION]["Properties"]["Environment"]["Variables"]["BUCKET_NAME"]
    assert isinstance(bucket_name, dict) and "Ref" in bucket_name, "BUCKET_NAME must be the stack's bucket"
    bucket = bucket_name["Ref"]
    assert stack.resources[bucket]["Type"] == "AWS::S3::Bucket"

    statements = role_statements(stack)
    for statement in statements:
        assert statement["Effect"] == "Allow", statement
        assert "NotAction" not in statement and "NotResource" not in statement, statement
    s3 = [s for s in statements if any(str(a).startswith("s3:") for a in as_list(s["Action"]))]
    lists = [s for s in s3 if set(as_list(s["Action"])) & LIST_ACTIONS]
    s3 = [s for s in s3 if s not in lists]
    actions = {a for s in s3 for a in as_list(s["Action"])}
    assert actions == OBJECT_ACTIONS, f"S3 actions are {sorted(actions)}, must be exactly {sorted(OBJECT_ACTIONS)}"
    # Listing is bucket-wide by nature: it must be held to prefixes under KeyPrefix.
    assert len(lists) == 1, f"one statement lists: {lists}"
    (listing,) = lists
    assert set(as_list(listing["Action"])) == LIST_ACTIONS, "listing stands alone"
    assert [is_getatt(r, bucket, "Arn") for r in as_list(listing["Resource"])] == [True]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": f"{key_prefix}*"}}, listing["Condition"]
    statements = [s for s in statements if s not in lists]
    for statement in s3:
        assert set(as_list(statement["Action"])) <= OBJECT_ACTIONS
        assert as_list(statement["Resource"]) == [{"Fn::Sub": f"${{{bucket}.Arn}}/{key_prefix}*"}], (
            f"S3 actions must be on the bucket's objects only, got {statement['Resource']}"
        )
    others = [s for s in statements if s not in s3]
    other_actions = {a for s in others for a in as_list(s["Action"])}
    allowed = LOG_ACTIONS | SECRET_ACTIONS | (STATE_ACTIONS if catalog == "Enabled" else set())
    assert other_actions <= allowed, f"unexpected actions: {sorted(other_actions - allowed)}"
    assert_state_items_only(stack, others, catalog == "Enabled")
    log_group = stack.resources[FUNCTION]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    for statement in others:
        if set(as_list(statement["Action"])) <= LOG_ACTIONS:
            assert all(is_getatt(r, log_group, "Arn") for r in as_list(statement["Resource"])), (
                f"log writes must be limited to {log_group}, got {statement['Resource']}"
            )
    secret, _ = stack.one("AWS::SecretsManager::Secret")
    reads = [s for s in others if set(as_list(s["Action"])) & SECRET_ACTIONS]
    assert reads, "the role must be able to read the share keys secret"
    for statement in reads:
        assert set(as_list(statement["Action"])) == SECRET_ACTIONS, f"secret reads stand alone: {statement['Action']}"
        assert as_list(statement["Resource"]) == [{"Ref": secret}], (
            f"the role may read {secret} only, got {statement['Resource']}"
        )


def assert_state_items_only(stack: Stack, statements: list[dict[str, Any]], expected: bool) -> None:
    """The state table's item actions, on that table only (no index, no `*`), exactly when the catalog is on."""
    state = [s for s in statements if any(str(a).startswith("dynamodb:") for a in as_list(s["Action"]))]
    if not expected:
        assert not state, f"no catalog, no DynamoDB grant: {state}"
        return
    table, _ = stack.one("AWS::DynamoDB::Table")
    actions = {a for s in state for a in as_list(s["Action"])}
    assert actions == STATE_ACTIONS, f"DynamoDB actions are {sorted(actions)}, must be {sorted(STATE_ACTIONS)}"
    for statement in state:
        assert [is_getatt(r, table, "Arn") for r in as_list(statement["Resource"])] == [True], (
            f"DynamoDB actions must be on {table} alone, got {statement['Resource']}"
        )
        assert "Condition" not in statement or statement["Condition"], statement


def test_key_prefix_cannot_widen_the_role(source: dict[str, Any]) -> None:
    pattern = source["Parameters"]["KeyPrefix"]["AllowedPattern"]
    for good in ["", "uploads/", "a/b-c/d_e.f/"]:
        assert re.fullmatch(pattern, good), good
    for bad in ["uploads", "*/", "a/*", "?/", "../", "./", "/", "a//", "a b/"]:
        assert not re.fullmatch(pattern, bad), f"KeyPrefix {bad!r} must be refused"


# ---- the bucket ----------------------------------------------------------------


def test_bucket_is_private_encrypted_tls_only_and_cleans_up(translated: dict[str, Any]) -> None:
    stack = Stack(translated)
    name, bucket = stack.one("AWS::S3::Bucket")
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert [e["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for e in encryption] in (["AES256"], ["aws:kms"])

    rules = props["LifecycleConfiguration"]["Rules"]
    aborts = [r for r in rules if r.get("Status") == "Enabled" and "AbortIncompleteMultipartUpload" in r]
    assert aborts, "a lifecycle rule must abort incomplete multipart uploads"
    assert 1 <= int(aborts[0]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]) <= 7

    versioning = translated["Resources"][name]["Properties"]["VersioningConfiguration"]["Status"]
    assert isinstance(versioning, dict) and "Ref" in versioning, "versioning must come from a parameter"
    assert set(translated["Parameters"][versioning["Ref"]]["AllowedValues"]) == {"Enabled", "Suspended"}
    for status in ("Enabled", "Suspended"):
        resolved = Stack(translated, **{versioning["Ref"]: status}).resources[name]
        assert resolved["Properties"]["VersioningConfiguration"]["Status"] == status

    policies = [r for r in stack.of_type("AWS::S3::BucketPolicy").values() if is_ref(r["Properties"]["Bucket"], name)]
    assert len(policies) == 1, "the bucket needs exactly one bucket policy"
    tls = [
        s
        for s in as_list(policies[0]["Properties"]["PolicyDocument"]["Statement"])
        if s["Effect"] == "Deny"
        and s.get("Principal") in ("*", {"AWS": "*"})
        and "s3:*" in as_list(s["Action"])
        and str(s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")).lower() == "false"
    ]
    assert tls, "the bucket policy must deny any request with aws:SecureTransport false"
    resources = as_list(tls[0]["Resource"])
    assert any(is_getatt(r, name, "Arn") for r in resources), "the TLS deny must cover the bucket"
    assert {"Fn::Sub": f"${{{name}.Arn}}/*"} in resources, "the TLS deny must cover the objects"


@pytest.mark.parametrize("api_type", API_TYPES)
@pytest.mark.parametrize(
    "origins, expected",
    [
        ("", None),
        ("https://app.example.com", ["https://app.example.com"]),
        ("https://a.example,http://localhost:5173", ["https://a.example", "http://localhost:5173"]),
        ("*", ["*"]),
    ],
)
def test_bucket_cors_follows_allowed_origins(
    translated: dict[str, Any], api_type: str, origins: str, expected: list[str] | None
) -> None:
    assert re.fullmatch(translated["Parameters"]["AllowedOrigins"]["AllowedPattern"], origins)
    stack = Stack(translated, AllowedOrigins=origins, ApiType=api_type)
    _, bucket = stack.one("AWS::S3::Bucket")
    page, *configured = bucket["Properties"]["CorsConfiguration"]["CorsRules"]
    # The gateway's own page uploads straight to the bucket, with or without AllowedOrigins.
    api, _ = stack.one("AWS::ApiGatewayV2::Api" if api_type == "HTTP" else "AWS::ApiGateway::RestApi")
    api_origin = {"Fn::Sub": f"https://${{{api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"}
    assert page["AllowedOrigins"] == [api_origin]
    with_domain = Stack(translated, AllowedOrigins=origins, ApiType=api_type, **DOMAIN)
    domain_page = with_domain.one("AWS::S3::Bucket")[1]["Properties"]["CorsConfiguration"]["CorsRules"][0]
    assert domain_page["AllowedOrigins"] == [api_origin, f"https://{DOMAIN['DomainName']}"]
    for rule in [page, *configured]:
        assert sorted(rule["AllowedMethods"]) == ["DELETE", "GET", "HEAD", "PUT"]
        assert rule["AllowedHeaders"] == ["*"]
        assert "ETag" in rule["ExposedHeaders"], "a browser reads each part's ETag to complete an upload"
    if expected is None:
        assert configured == [], "no AllowedOrigins, no rule for other pages"
        return
    (rule,) = configured
    assert rule["AllowedOrigins"] == expected
    assert Stack(translated, AllowedOrigins=origins).resources[FUNCTION]["Properties"]["Environment"]["Variables"][
        "ALLOWED_ORIGINS"
    ] == origins, "the gateway and the bucket must allow the same origins"


@pytest.mark.parametrize(
    "origins, expected",
    [
        ("https://app.example.com", ["https://app.example.com", "null"]),
        ("https://a.example,http://localhost:5173", ["https://a.example", "http://localhost:5173", "null"]),
    ],
)
def test_bucket_lets_in_a_null_origin_only_when_asked(
    translated: dict[str, Any], source: dict[str, Any], origins: str, expected: list[str]
) -> None:
    # Any sandboxed iframe sends `Origin: null`, not only a page after a
    # cross-origin 307, so the bucket answers it only with AllowNullOrigin.
    param = source["Parameters"]["AllowNullOrigin"]
    assert param["Default"] == "false" and sorted(param["AllowedValues"]) == ["false", "true"]

    def configured(**values: str) -> list[str]:
        bucket = Stack(translated, AllowedOrigins=origins, **values).one("AWS::S3::Bucket")[1]
        page, *rules = bucket["Properties"]["CorsConfiguration"]["CorsRules"]
        assert "null" not in page["AllowedOrigins"], "the gateway's own page keeps its origin"
        (rule,) = rules
        return rule["AllowedOrigins"]

    assert configured() == [o for o in expected if o != "null"]
    assert configured(AllowNullOrigin="false") == [o for o in expected if o != "null"]
    assert configured(AllowNullOrigin="true") == expected
    # As the binary refuses --allow-null-origin alone: no page could need it.
    assert broken_rules(source, AllowNullOrigin="true") == [
        "AllowNullOrigin is for the pages of AllowedOrigins that follow a cross-origin 307, and AllowedOrigins is empty."
    ]
    assert not broken_rules(source, AllowNullOrigin="true", AllowedOrigins=origins)


def test_allowed_origins_refuses_what_s3_would_not_match(source: dict[str, Any]) -> None:
    pattern = source["Parameters"]["AllowedOrigins"]["AllowedPattern"]
    for bad in ["https://a.example/", "https://a.example, https://b.example", "a.example", "*,https://a.example", ","]:
        assert not re.fullmatch(pattern, bad), f"AllowedOrigins {bad!r} must be refused"


# ---- front doors -----------------------------------------------------------------


def test_api_type_values(source: dict[str, Any]) -> None:
    assert source["Parameters"]["ApiType"]["AllowedValues"] == API_TYPES
    assert source["Parameters"]["ApiType"]["Default"] == "HTTP"


@pytest.mark.parametrize("api_type, overrides", CONFIGURATIONS, ids=CONFIGURATION_IDS)
def test_every_reference_resolves_to_a_created_resource(
    translated: dict[str, Any], api_type: str, overrides: dict[str, str]
) -> None:
    assert not broken_rules(translated, ApiType=api_type, **overrides)
    stack = Stack(translated, ApiType=api_type, **overrides)
    known = set(stack.resources) | set(stack.params) | PSEUDO
    for name, resource in stack.resources.items():
        missing = set(references(resource)) - known
        assert not missing, f"{name} refers to {sorted(missing)}, not created with ApiType={api_type}"
    for name, output in stack.outputs.items():
        missing = set(references(output)) - known
        assert not missing, f"output {name} refers to {sorted(missing)}, not created with ApiType={api_type}"
    assert {"ApiUrl", "BucketName"} <= set(stack.outputs)
    assert is_ref(stack.outputs["BucketName"]["Value"], stack.one("AWS::S3::Bucket")[0])


@pytest.mark.parametrize("api_type, overrides", CONFIGURATIONS, ids=CONFIGURATION_IDS)
def test_resources_do_not_depend_on_each_other_in_a_circle(
    translated: dict[str, Any], api_type: str, overrides: dict[str, str]
) -> None:
    """CloudFormation refuses a cycle; the function's BASE_URL names the API, which must not name the function."""
    stack = Stack(translated, ApiType=api_type, **overrides)
    graph = {
        name: set(references(resource)) & set(stack.resources) | set(as_list(resource.get("DependsOn", [])))
        for name, resource in stack.resources.items()
    }
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "open":
            pytest.fail("dependency cycle: " + " -> ".join(path[path.index(name) :] + [name]), pytrace=False)
        state[name] = "open"
        for dependency in sorted(graph[name]):
            visit(dependency, path + [name])
        state[name] = "done"

    for name in sorted(graph):
        visit(name, [])


def test_http_api_routes_proxy_and_root_to_the_function(translated: dict[str, Any]) -> None:
    stack = Stack(translated, ApiType="HTTP")
    assert not [n for n, r in stack.resources.items() if r["Type"].startswith("AWS::ApiGateway::")], (
        "ApiType=HTTP must not create REST API resources"
    )
    api, _ = stack.one("AWS::ApiGatewayV2::Api")
    assert stack.resources[api]["Properties"]["ProtocolType"] == "HTTP"
    assert "CorsConfiguration" not in stack.resources[api]["Properties"], (
        "OPTIONS must reach the function, which answers preflights for ALLOWED_ORIGINS"
    )
    integration_name, integration = stack.one("AWS::ApiGatewayV2::Integration")
    assert integration["Properties"]["IntegrationType"] == "AWS_PROXY"
    assert function_arn_in(integration["Properties"]["IntegrationUri"])
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in stack.of_type("AWS::ApiGatewayV2::Route").values()}
    assert set(routes) == {"ANY /{proxy+}", "ANY /"}, f"routes are {sorted(routes)}; `$default` carries no proxy parameter"
    for route in routes.values():
        assert route["Target"] == {"Fn::Sub": f"integrations/${{{integration_name}}}"}
        # Explicitly NONE: when JwtIssuer is cleared, a route that merely drops
        # AuthorizationType keeps its authorizer (cloudformation-coverage-roadmap#2184).
        assert route.get("AuthorizationType") == "NONE" and "AuthorizerId" not in route, "no JwtIssuer, no authorizer"
    assert not stack.of_type("AWS::ApiGatewayV2::Authorizer"), "no JwtIssuer, no authorizer"
    _, stage = stack.one("AWS::ApiGatewayV2::Stage")
    assert stage["Properties"].get("AutoDeploy") is True
    assert_invoke_permission(stack, api)
    assert stack.outputs["ApiUrl"]["Value"] == {"Fn::Sub": f"${{{api}.ApiEndpoint}}/"}


def test_rest_api_has_proxy_resource_root_method_and_stage(translated: dict[str, Any]) -> None:
    stack = Stack(translated, ApiType="REST")
    assert not [n for n, r in stack.resources.items() if r["Type"].startswith("AWS::ApiGatewayV2::")], (
        "ApiType=REST must not create HTTP API resources"
    )
    api, _ = stack.one("AWS::ApiGateway::RestApi")
    proxy_name, proxy = stack.one("AWS::ApiGateway::Resource")
    assert proxy["Properties"]["PathPart"] == "{proxy+}"
    assert is_getatt(proxy["Properties"]["ParentId"], api, "RootResourceId")
    methods = stack.of_type("AWS::ApiGateway::Method").values()
    on = {"proxy": [], "root": []}
    for method in methods:
        props = method["Properties"]
        assert props["HttpMethod"] == "ANY"
        assert props["Integration"]["Type"] == "AWS_PROXY"
        assert props["Integration"]["IntegrationHttpMethod"] == "POST"
        assert function_arn_in(props["Integration"]["Uri"])
        if is_ref(props["ResourceId"], proxy_name):
            on["proxy"].append(method)
        elif is_getatt(props["ResourceId"], api, "RootResourceId"):
            on["root"].append(method)
    assert len(on["proxy"]) == 1 and len(on["root"]) == 1, "one ANY method on {proxy+} and one on /"
    _, deployment = stack.one("AWS::ApiGateway::Deployment")
    assert len(as_list(deployment.get("DependsOn", []))) == 2, "the deployment must wait for both methods"
    _, stage = stack.one("AWS::ApiGateway::Stage")
    assert stage["Properties"]["StageName"]
    assert_invoke_permission(stack, api)
    url = stack.outputs["ApiUrl"]["Value"]["Fn::Sub"]
    assert f"${{{api}}}" in url and "${RestStage}" in url


def assert_invoke_permission(stack: Stack, api: str) -> None:
    permissions = [
        p["Properties"]
        for p in stack.of_type("AWS::Lambda::Permission").values()
        if is_ref(p["Properties"]["FunctionName"], FUNCTION) or is_getatt(p["Properties"]["FunctionName"], FUNCTION, "Arn")
    ]
    assert len(permissions) == 1, "API Gateway needs exactly one permission to invoke the function"
    assert permissions[0]["Principal"] == "apigateway.amazonaws.com"
    assert permissions[0]["Action"] == "lambda:InvokeFunction"
    assert api in set(references(permissions[0]["SourceArn"])), "the permission must be scoped to this API"


@pytest.mark.parametrize("api_type", API_TYPES)
def test_custom_domain_maps_the_api_under_the_base_path(translated: dict[str, Any], api_type: str) -> None:
    plain = Stack(translated, ApiType=api_type)
    assert not [n for n, r in plain.resources.items() if "DomainName" in r["Type"] or "Mapping" in r["Type"]]
    assert "CustomDomainUrl" not in plain.outputs

    stack = Stack(translated, ApiType=api_type, **DOMAIN)
    if api_type == "HTTP":
        _, domain = stack.one("AWS::ApiGatewayV2::DomainName")
        assert domain["Properties"]["DomainNameConfigurations"][0]["CertificateArn"] == DOMAIN["CertificateArn"]
        _, mapping = stack.one("AWS::ApiGatewayV2::ApiMapping")
        assert mapping["Properties"]["ApiMappingKey"] == DOMAIN["BasePath"]
    else:
        _, domain = stack.one("AWS::ApiGateway::DomainName")
        assert domain["Properties"]["RegionalCertificateArn"] == DOMAIN["CertificateArn"]
        _, mapping = stack.one("AWS::ApiGateway::BasePathMapping")
        assert mapping["Properties"]["BasePath"] == DOMAIN["BasePath"]
    assert stack.outputs["CustomDomainUrl"]["Value"] == "https://files.example.com/files/"

    no_base = Stack(translated, ApiType=api_type, **{**DOMAIN, "BasePath": ""})
    mapping_type = "AWS::ApiGatewayV2::ApiMapping" if api_type == "HTTP" else "AWS::ApiGateway::BasePathMapping"
    _, mapping = no_base.one(mapping_type)
    assert not ({"ApiMappingKey", "BasePath"} & set(mapping["Properties"])), "no base path, no mapping key"


def test_jwt_authorizer_guards_the_key_routes_and_leaves_links_open(translated: dict[str, Any]) -> None:
    stack = Stack(translated, ApiType="HTTP", **JWT)
    api, _ = stack.one("AWS::ApiGatewayV2::Api")
    integration_name, _ = stack.one("AWS::ApiGatewayV2::Integration")
    authorizer_name, authorizer = stack.one("AWS::ApiGatewayV2::Authorizer")
    props = authorizer["Properties"]
    assert is_ref(props["ApiId"], api)
    assert props["AuthorizerType"] == "JWT"
    assert props["IdentitySource"] == ["$request.header.Authorization"]
    assert props["JwtConfiguration"] == {"Issuer": JWT["JwtIssuer"], "Audience": JWT["JwtAudience"].split(",")}

    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in stack.of_type("AWS::ApiGatewayV2::Route").values()}
    guarded = {"ANY /{proxy+}", "ANY /"}
    # Opened without a token: share links, and browsers' CORS preflights.
    # The page itself needs no token either: GET / takes precedence over ANY /.
    open_routes = {"ANY /links/{proxy+}", "OPTIONS /{proxy+}", "OPTIONS /", "GET /"}
    assert set(routes) == guarded | open_routes, f"routes are {sorted(routes)}"
    for key, route in routes.items():
        assert is_ref(route["ApiId"], api)
        assert route["Target"] == {"Fn::Sub": f"integrations/${{{integration_name}}}"}, f"{key} must reach the function"
        if key in guarded:
            assert route["AuthorizationType"] == "JWT" and is_ref(route.get("AuthorizerId"), authorizer_name), (
                f"{key} must use the JWT authorizer"
            )
        else:
            assert route.get("AuthorizationType") == "NONE" and "AuthorizerId" not in route, (
                f"{key} is opened without a token and must not use the authorizer"
            )
    assert_invoke_permission(stack, api)

    variables = stack.resources[FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["AUTH_MODE"] == "authorizer", "behind the authorizer, its claims must name the tenant"
    links = f"https://${{{api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/links"
    assert variables["BASE_URL"] == {"Fn::Sub": links}, "share links must open on the route the authorizer leaves open"


def only_with_api_keys(value: Any) -> bool:
    """Whether a variable is set with ApiKeys Enabled and left out otherwise."""
    return isinstance(value, dict) and value.get("Fn::If", [None, None, None])[0] == "HasApiKeys" and value["Fn::If"][
        2
    ] == {"Ref": "AWS::NoValue"}


API_KEYS = {**JWT, "ApiKeys": "Enabled"}


def test_api_keys_route_to_the_function_without_the_authorizer(translated: dict[str, Any]) -> None:
    stack = Stack(translated, ApiType="HTTP", **API_KEYS)
    assert not stack.of_type("AWS::ApiGatewayV2::Authorizer"), "an authorizer would refuse every API key"
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in stack.of_type("AWS::ApiGatewayV2::Route").values()}
    assert set(routes) == {"ANY /{proxy+}", "ANY /"}, f"routes are {sorted(routes)}"
    for key, route in routes.items():
        assert route["AuthorizationType"] == "NONE" and "AuthorizerId" not in route, key
    variables = stack.resources[FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["AUTH_MODE"] == "jwt", "the function must read bearer tokens (JWTs and keys) itself"
    # The issuer's keys come from its discovery document, so the function can verify its tokens.
    assert variables["OIDC_ISSUER"] == JWT["JwtIssuer"] and "JWT_ISSUER" not in variables
    assert variables["JWT_AUDIENCE"] == JWT["JwtAudience"].split(",")[0], "the binary checks one audience"
    assert variables["STATE_TABLE"] == {"Ref": "StateTable"}, "keys live in the state table"
    assert "BASE_URL" not in variables, "without the authorizer links open on the key routes: no /links"

    # Off by default: the authorizer as before, and no JWT settings for the function.
    plain = Stack(translated, ApiType="HTTP", **JWT)
    assert plain.of_type("AWS::ApiGatewayV2::Authorizer")
    variables = plain.resources[FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["AUTH_MODE"] == "authorizer" and not (set(variables) & JWT_MODE_ENV), variables
    assert "OIDC_ISSUER" not in variables, variables


def test_api_keys_need_the_state_table_and_an_issuer(source: dict[str, Any]) -> None:
    assert source["Parameters"]["ApiKeys"]["Default"] == "Disabled"
    assert not broken_rules(source, **API_KEYS)
    for overrides in [{"ApiKeys": "Enabled"}, {**API_KEYS, "Catalog": "Disabled"}]:
        assert broken_rules(source, **overrides), f"{overrides} must be refused by a rule"


def test_jwt_issuer_needs_an_http_api_authorizer_mode_and_an_audience(source: dict[str, Any]) -> None:
    assert not broken_rules(source), "the defaults must deploy"
    assert not broken_rules(source, **JWT)
    assert not broken_rules(source, AuthMode="authorizer"), "an authorizer of one's own (fails closed without one)"
    refused = [
        {**JWT, "ApiType": "REST"},
        {**JWT, "AuthMode": "none"},  # the open /links route would serve the whole bucket
        {**JWT, "JwtAudience": ""},
        {"JwtAudience": "client-one"},
    ]
    for overrides in refused:
        assert broken_rules(source, **overrides), f"{overrides} must be refused by a rule"


# ---- the optional Cognito user pool -----------------------------------------------


def test_no_user_pool_by_default(translated: dict[str, Any]) -> None:
    stack = Stack(translated)
    assert not stack.of_type("AWS::Cognito::UserPool") and not stack.of_type("AWS::Cognito::UserPoolClient")
    assert not stack.of_type("AWS::Cognito::UserPoolDomain")
    variables = stack.resources[FUNCTION]["Properties"]["Environment"]["Variables"]
    assert "OIDC_ISSUER" not in variables and "OIDC_CLIENT_ID" not in variables
    assert not {"UserPoolId", "UserPoolClientId", "SignInDomain"} & set(stack.outputs)


@pytest.mark.parametrize(
    "overrides, page",
    [
        (COGNITO, None),
        ({**COGNITO, **DOMAIN}, "https://files.example.com/files/"),
        ({**COGNITO, **DOMAIN, "BasePath": ""}, "https://files.example.com/"),
    ],
    ids=["execute-api", "domain", "domain-no-base"],
)
def test_a_user_pool_signs_the_page_in_and_its_tokens_pass_the_authorizer(
    translated: dict[str, Any], overrides: dict[str, str], page: str | None
) -> None:
    assert not broken_rules(translated, **overrides)
    stack = Stack(translated, ApiType="HTTP", **overrides)
    pool, pool_props = stack.one("AWS::Cognito::UserPool")
    assert pool_props["Properties"]["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}, "no self sign-up"
    client_name, client = stack.one("AWS::Cognito::UserPoolClient")
    props = client["Properties"]
    assert is_ref(props["UserPoolId"], pool)
    # A public client: the page keeps no secret, so Authorization Code with PKCE and nothing else.
    assert props["GenerateSecret"] is False and props["AllowedOAuthFlows"] == ["code"]
    assert props["AllowedOAuthFlowsUserPoolClient"] is True and "openid" in props["AllowedOAuthScopes"]
    api, _ = stack.one("AWS::ApiGatewayV2::Api")
    expected = page or {"Fn::Sub": f"https://${{{api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/"}
    assert props["CallbackURLs"] == [expected] and props["LogoutURLs"] == [expected], "the page, with its trailing /"
    _, domain = stack.one("AWS::Cognito::UserPoolDomain")
    assert is_ref(domain["Properties"]["UserPoolId"], pool)
    assert domain["Properties"]["Domain"] == {"Fn::Join": ["", [COGNITO["CognitoDomainPrefix"]]]}

    issuer = {"Fn::Sub": f"https://${{{pool}.ProviderURL}}"}
    authorizer_name, authorizer = stack.one("AWS::ApiGatewayV2::Authorizer")
    assert authorizer["Properties"]["JwtConfiguration"] == {"Issuer": issuer, "Audience": [{"Ref": client_name}]}
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in stack.of_type("AWS::ApiGatewayV2::Route").values()}
    for guarded in ("ANY /{proxy+}", "ANY /"):
        assert is_ref(routes[guarded].get("AuthorizerId"), authorizer_name), f"{guarded} must use the pool's tokens"
    # The page, its script and ?config, and the provider's answer (GET /?code=...) need no token.
    assert routes["GET /"]["AuthorizationType"] == "NONE"

    variables = stack.resources[FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["AUTH_MODE"] == "authorizer"
    assert variables["OIDC_ISSUER"] == issuer and is_ref(variables["OIDC_CLIENT_ID"], client_name)
    assert {"UserPoolId", "UserPoolClientId", "SignInDomain"} <= set(stack.outputs)


def test_user_pool_settings_are_checked_by_rules(source: dict[str, Any], binary_env_names: set[str]) -> None:
    assert not broken_rules(source, **COGNITO)
    refused = [
        {**COGNITO, "ApiType": "REST"},
        {**COGNITO, "AuthMode": "none"},  # the open /links route would serve the whole bucket
        {**COGNITO, **JWT},  # two issuers for one authorizer
        {**COGNITO, "CognitoDomainPrefix": ""},
        {"CognitoDomainPrefix": "files-example"},
    ]
    for overrides in refused:
        assert broken_rules(source, **overrides), f"{overrides} must be refused by a rule"
    assert {"OIDC_ISSUER", "OIDC_CLIENT_ID"} <= binary_env_names, "the binary reads the page's sign-in settings"


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({}, None),  # the binary takes the execute-api domain and stage from the request
        ({"ApiType": "REST"}, None),
        ({"BaseUrl": "https://share.example.com"}, "https://share.example.com"),
        ({**JWT, "BaseUrl": "https://share.example.com/l"}, "https://share.example.com/l"),
        (DOMAIN, "https://files.example.com/files"),
        ({**DOMAIN, "ApiType": "REST"}, "https://files.example.com/files"),
        ({**DOMAIN, "BasePath": ""}, "https://files.example.com"),
        ({**JWT, **DOMAIN}, "https://files.example.com/files/links"),
        ({**JWT, **DOMAIN, "BasePath": ""}, "https://files.example.com/links"),
    ],
    ids=[
        "http",
        "rest",
        "base-url",
        "jwt-base-url",
        "domain",
        "rest-domain",
        "domain-no-base",
        "jwt-domain",
        "jwt-domain-no-base",
    ],
)
def test_base_url_points_share_links_where_they_open(
    translated: dict[str, Any], overrides: dict[str, str], expected: str | None
) -> None:
    assert not broken_rules(translated, **overrides)
    stack = Stack(translated, **overrides)
    variables = stack.resources[FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables.get("BASE_URL") == expected
    if overrides.get("JwtIssuer") and not overrides.get("BaseUrl"):
        links = [r["Properties"]["RouteKey"] for r in stack.of_type("AWS::ApiGatewayV2::Route").values()]
        assert "ANY /links/{proxy+}" in links and expected.endswith("/links"), "links must open on the open route"


# ---- share link keys ---------------------------------------------------------------


def test_share_keys_come_from_a_generated_secret_only(translated: dict[str, Any], source: dict[str, Any]) -> None:
    stack = Stack(translated)
    secret_name, secret = stack.one("AWS::SecretsManager::Secret")
    props = translated["Resources"][secret_name]["Properties"]
    assert "SecretString" not in props, "the signing secret must never come from the template"
    generate = props["GenerateSecretString"]
    assert not set(references(generate)), "no parameter may feed the generated secret"
    template = json.loads(generate["SecretStringTemplate"])
    assert set(template) == {"kid"} and re.fullmatch(r"[A-Za-z0-9_-]{1,32}", template["kid"]), template
    assert generate["GenerateStringKey"] == "secret"
    assert int(generate["PasswordLength"]) >= 48, "the binary needs 32 bytes at least; generate 48 or more"
    assert generate["ExcludePunctuation"] is True, "letters and digits only: `,` and `:` separate keys"

    variables = translated["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    assert is_ref(variables["SHARE_KEYS_SECRET_ARN"], secret_name), "the function must read the stack's secret"
    assert not SECRET_ENV & set(variables), f"{sorted(SECRET_ENV & set(variables))} must not be plain variables"
    assert is_ref(translated["Outputs"]["ShareKeysSecretArn"]["Value"], secret_name)
    # Nothing secret is asked for as a parameter.
    for name, parameter in source["Parameters"].items():
        assert not re.search(r"secret|password|sharekey", name, re.IGNORECASE), f"parameter {name} looks like a secret"
        assert str(parameter.get("NoEcho", "false")).lower() != "true", f"{name} is NoEcho: secrets go in Secrets Manager"


def share(binary: Path, *args: str, keys: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), "share", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", ""), "SHARE_KEYS": keys},
    )


def test_the_binary_signs_with_the_generated_secret_and_after_rotation(
    source: dict[str, Any], gateway_binary: Path
) -> None:
    """Shaped as Secrets Manager generates it, then as the rotation in stackery/README.md leaves it."""
    generate = source["Resources"]["ShareKeysSecret"]["Properties"]["GenerateSecretString"]
    alphabet = string.ascii_letters + string.digits
    first = "".join(secrets.choice(alphabet) for _ in range(int(generate["PasswordLength"])))
    generated = json.dumps({**json.loads(generate["SecretStringTemplate"]), generate["GenerateStringKey"]: first})
    second = "".join(secrets.choice(alphabet) for _ in range(48))
    max_ttl = source["Parameters"]["ShareMaxTtl"]["Default"]
    base = "https://abc123.execute-api.us-east-1.amazonaws.com/links"
    for keys in (generated, f"k2:{second},k1:{first}"):
        args = ["--ttl", "1h", "--base-url", base, "--share-max-ttl", max_ttl, "docs/a.txt"]
        result = share(gateway_binary, *args, keys=keys)
        assert result.returncode == 0, f"share with {keys[:12]}...: {result.stderr}"
        assert result.stdout.strip().startswith(f"{base}/docs/a.txt?token="), result.stdout


# ---- environment variables against the binary ------------------------------------


@pytest.fixture(scope="module")
def gateway_binary() -> Path:
    default = Path(os.environ.get("CARGO_TARGET_DIR", "target")) / "debug" / "presign-gateway"
    binary = Path(os.environ.get("PRESIGN_GATEWAY_BIN") or default)
    if not binary.is_absolute():
        binary = REPO / binary
    if not binary.is_file():
        pytest.fail(
            f"the presign-gateway binary is missing at {binary}: run `cargo build`, "
            "or set PRESIGN_GATEWAY_BIN to the binary's path",
            pytrace=False,
        )
    return binary


@pytest.fixture(scope="module")
def serve_options(gateway_binary: Path) -> dict[str, dict[str, Any]]:
    """`serve --help`, read as variable name -> {"default": ..., "values": [...]}."""
    # A bare environment, so no variable of the caller's shows up as a value.
    result = subprocess.run(
        [str(gateway_binary), "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", "")},
    )
    assert result.returncode == 0, f"{gateway_binary} serve --help failed:\n{result.stderr}"
    options = {}
    for block in re.split(r"\n(?=\s+(?:-\w, )?--)", result.stdout):
        # Variables holding secrets print as `[env: NAME]`, without `=`.
        env = re.search(r"\[env: ([A-Z0-9_]+)[=\]]", block)
        if env:
            default = re.search(r"\[default: ([^\]]*)\]", block)
            options[env.group(1)] = {
                "default": default.group(1) if default else None,
                "values": re.findall(r"^\s+- (\w+):", block, re.MULTILINE),
            }
    assert "BUCKET_NAME" in options and len(options) >= 5, f"could not read env names from:\n{result.stdout}"
    return options


@pytest.fixture(scope="module")
def binary_env_names(serve_options: dict[str, dict[str, Any]]) -> set[str]:
    return set(serve_options)


def test_function_sets_only_variables_the_binary_reads(translated: dict[str, Any], binary_env_names: set[str]) -> None:
    variables = translated["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    unknown = set(variables) - binary_env_names
    assert not unknown, f"the binary reads none of {sorted(unknown)}; it reads {sorted(binary_env_names)}"
    missing = REQUIRED_ENV - set(variables)
    assert not missing, f"the function must set {sorted(missing)}"
    local = set(variables) & LOCAL_ONLY_ENV
    assert not local, f"{sorted(local)} are local-only or reserved by Lambda"
    secret = set(variables) & SECRET_ENV
    assert not secret, f"{sorted(secret)} would put a secret in plain sight: use SHARE_KEYS_SECRET_ARN"
    jwt = {name for name in set(variables) & JWT_MODE_ENV if not only_with_api_keys(variables[name])}
    assert not jwt, f"{sorted(jwt)} are for AUTH_MODE=jwt, which the template sets with ApiKeys Enabled only"
    assert REQUIRED_ENV <= binary_env_names, f"the binary no longer reads {sorted(REQUIRED_ENV - binary_env_names)}"
    assert SECRET_ENV | JWT_MODE_ENV <= binary_env_names, "the lists above name variables the binary no longer reads"


def test_variables_are_wired_to_their_parameters(translated: dict[str, Any]) -> None:
    variables = translated["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    wiring = {
        "EXPIRES_SECONDS": "ExpiresSeconds",
        "KEY_PREFIX": "KeyPrefix",
        "ALLOWED_ORIGINS": "AllowedOrigins",
        "LOG_LEVEL": "LogLevel",
        "AUTH_MODE": "AuthMode",
        "TENANT_CLAIM": "TenantClaim",
        "TENANT_FOLDER": "TenantFolder",
        "SHARE_MAX_TTL": "ShareMaxTtl",
        "METRICS_NAMESPACE": "MetricsNamespace",
    }
    for variable, parameter in wiring.items():
        value = variables[variable]
        if variable == "AUTH_MODE":  # jwt with ApiKeys Enabled, else the parameter
            assert value == {"Fn::If": ["HasApiKeys", "jwt", {"Ref": "AuthMode"}]}, value
            continue
        assert is_ref(value, parameter), f"{variable} must be !Ref {parameter}"
    expires = translated["Parameters"]["ExpiresSeconds"]
    assert (expires["Type"], int(expires["MinValue"]), int(expires["MaxValue"]), int(expires["Default"])) == (
        "Number",
        1,
        604800,
        300,
    ), "EXPIRES_SECONDS is 1..604800, default 300, as the binary checks"
    params = translated["Parameters"]
    assert params["KeyPrefix"]["Default"] == "" and params["AllowedOrigins"]["Default"] == ""
    assert params["LogLevel"]["Default"] == "info"


def test_tenancy_and_share_defaults_are_the_binarys(
    source: dict[str, Any], serve_options: dict[str, dict[str, Any]]
) -> None:
    params = source["Parameters"]
    for variable, parameter in {
        "AUTH_MODE": "AuthMode",
        "TENANT_CLAIM": "TenantClaim",
        "TENANT_FOLDER": "TenantFolder",
        "SHARE_MAX_TTL": "ShareMaxTtl",
        "METRICS_NAMESPACE": "MetricsNamespace",
    }.items():
        assert str(params[parameter]["Default"]) == serve_options[variable]["default"], (
            f"{parameter} defaults to {params[parameter]['Default']!r}, the binary to {serve_options[variable]['default']!r}"
        )
    modes = serve_options["AUTH_MODE"]["values"]
    assert "authorizer" in modes and "jwt" in modes, f"the binary's auth modes: {modes}"
    assert params["AuthMode"]["AllowedValues"] == ["none", "authorizer"], (
        "AuthMode offers none and authorizer; jwt needs a key the template must not carry"
    )
    assert params["BaseUrl"]["Default"] == "" and params["JwtIssuer"]["Default"] == ""


def test_tenancy_and_share_parameters_refuse_what_the_binary_would(
    source: dict[str, Any], gateway_binary: Path
) -> None:
    params = source["Parameters"]
    cases = {
        "TenantFolder": (
            ["", "tenants", "tenants/", "orgs/by-id", "a.b/c_d"],
            ["/x", "../x", "a//b", "./", "a/../b", "a b", "*"],
        ),
        "ShareMaxTtl": (["365d", "3600", "45s", "90m", "12h"], ["", "0", "1w", "1.5h", "-5", "365 d", "9999999999d"]),
        "BaseUrl": (
            ["", "https://files.example.com", "https://x.example/files/links", "http://localhost:3000"],
            ["files.example.com", "ftp://x", "https://x/?a=b", "https://x/#f", "https:// x"],
        ),
        "TenantClaim": (["sub", "custom:tenant_id", "https://example.com/org"], ["", "a b"]),
        "JwtIssuer": (
            ["", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"],
            ["http://x", "issuer", "https://a b"],
        ),
        "JwtAudience": (["", "client", "a,b"], [",", "a,", "a, b"]),
    }
    for name, (good, bad) in cases.items():
        pattern = params[name]["AllowedPattern"]
        for value in good:
            assert re.fullmatch(pattern, value), f"{name} {value!r} must be accepted"
        for value in bad:
            assert not re.fullmatch(pattern, value), f"{name} {value!r} must be refused"
    # What the template lets through, the binary must take.
    keys = "k1:" + "x" * 32
    for ttl in cases["ShareMaxTtl"][0]:
        args = ["--ttl", "1", "--base-url", "https://x.example", "--share-max-ttl", ttl, "a"]
        result = share(gateway_binary, *args, keys=keys)
        assert result.returncode == 0, f"SHARE_MAX_TTL={ttl}: {result.stderr}"
    for base in filter(None, cases["BaseUrl"][0]):
        result = share(gateway_binary, "--ttl", "1", "--base-url", base, "a", keys=keys)
        assert result.returncode == 0, f"BASE_URL={base}: {result.stderr}"


# ---- AllowedTypes ----------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "image/*", "image/png,application/pdf"], ids=["empty", "wildcard", "list"])
def test_allowed_types_are_set_only_when_given(source: dict[str, Any], value: str) -> None:
    translated = translate(source, AllowedTypes=value)
    variables = Stack(translated, AllowedTypes=value).resources[FUNCTION]["Properties"]["Environment"]["Variables"]
    if value:
        assert variables["ALLOWED_TYPES"] == value
    else:
        assert "ALLOWED_TYPES" not in variables, "no AllowedTypes, any type: the binary reads no variable"


def test_allowed_types_pattern_takes_media_types_as_the_binary_does(source: dict[str, Any], gateway_binary: Path) -> None:
    pattern = source["Parameters"]["AllowedTypes"]["AllowedPattern"]
    good = ["", "image/*", "image/png", "image/png,image/jpeg,application/pdf", "application/vnd.ms-excel", "text/x-c++"]
    bad = ["image", "image/", "/png", "*/*", "image/png,", "image/png, image/jpeg", "image /png", "text/plain;charset=utf-8"]
    for value in good:
        assert re.fullmatch(pattern, value), f"AllowedTypes {value!r} must be accepted"
    for value in bad:
        assert not re.fullmatch(pattern, value), f"AllowedTypes {value!r} must be refused"
    # What the template lets through, the binary takes (a bad entry stops it at once, naming the setting).
    for value in filter(None, good):
        result = subprocess.run(
            [str(gateway_binary), "serve", "--allowed-types", value, "--listen", "127.0.0.1:0", "--log-level", "[["],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": os.environ.get("PATH", "")},
        )
        assert "ALLOWED_TYPES" not in result.stderr, f"the binary refuses {value!r}: {result.stderr}"
        assert "LOG_LEVEL" in result.stderr, "the run must stop at the bad log level, after the types were taken"


# ---- MaxObjectSize ----------------------------------------------------------------

SHARE_KEY = "k1:0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("value", ["", "5GiB", "1048576"], ids=["empty", "5GiB", "bytes"])
def test_max_object_size_is_set_only_when_given(source: dict[str, Any], value: str) -> None:
    translated = translate(source, MaxObjectSize=value)
    assert translated["Parameters"]["MaxObjectSize"]["Default"] == "", "the default is no limit of the gateway's own"
    raw = translated["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]["MAX_OBJECT_SIZE"]
    assert isinstance(raw, dict) and list(raw) == ["Fn::If"], f"MAX_OBJECT_SIZE must be an Fn::If, not {raw!r}"
    condition, then, otherwise = raw["Fn::If"]
    assert translated["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "MaxObjectSize"}, ""]}]}
    assert is_ref(then, "MaxObjectSize") and is_ref(otherwise, "AWS::NoValue")
    variables = Stack(translated, MaxObjectSize=value).resources[FUNCTION]["Properties"]["Environment"]["Variables"]
    if value:
        assert variables["MAX_OBJECT_SIZE"] == value
    else:
        assert "MAX_OBJECT_SIZE" not in variables, "an empty MaxObjectSize must set no variable: the binary refuses it"


def binary_takes_size(binary: Path, value: str) -> bool:
    """`share --max-size` parses sizes as the gateway parses MAX_OBJECT_SIZE (src/core/units.rs)."""
    # `--max-size=`, so that a value such as `-1` is not read as an option.
    args = ["x", "--ttl", "1", "--base-url", "http://h", "--share-keys", SHARE_KEY, "--methods", "PUT"]
    args.append(f"--max-size={value}")
    result = subprocess.run(
        [str(binary), "share", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", "")},
    )
    if result.returncode == 0:
        return True
    assert result.returncode == 2 and "--max-size" in result.stderr, (
        f"share failed for another reason than the size {value!r}: {result.stderr}"
    )
    return False


# Spelled as people write them, and as they should not: MaxObjectSize must
# take exactly what the binary takes (`5GB` and `5 MiB` included: the binary
# reads every unit as a power of 1024 and allows blanks around it).
SIZE_NUMBERS = ["0", "1", "5", "1048576", "007", "5497558138880", "1.5", "-1", "+5", "1,000", "5e9", "0x10", "five", "5 5"]
SIZE_UNITS = [
    *("", "b", "B"),
    *("k", "K", "kb", "KB", "kib", "KiB", "KIB"),
    *("m", "mb", "MB", "mib", "MiB"),
    *("g", "G", "gb", "GB", "gib", "GiB", "giB"),
    *("t", "tb", "TB", "tib", "TiB"),
    *("i", "ib", "iB", "Mi", "GiBs", "bytes", "PiB", "EiB", "X", "XB", "M i B", "5MiB"),
]
# What the documentation shows, and mistakes it should catch. `5GB` is taken:
# the binary reads it as 5 GiB.
SIZE_EXAMPLES_TAKEN = ["0", "1048576", "5GiB", "512 MiB", "50GiB", "1GiB", "2TiB", "5gib", "5GB"]
SIZE_EXAMPLES_REFUSED = ["MiB", "1.5GiB", "-1", "5XB", "5PiB", "5 GiB/s", "  "]
SIZE_VALUES = sorted(
    {f"5{blank}{unit}" for unit in SIZE_UNITS for blank in ("", " ")}
    | {f"{number}{unit}" for number in SIZE_NUMBERS for unit in ("", "MiB", " GiB")}
    | {" 5GiB", "5GiB ", "\t5\tMiB\n", "  ", "\t", "MiB", "GiB5", "5GiB5", "5MiB GiB"}
    # The largest each unit takes in the template, then sizes past 2^64 - 1 bytes.
    | {"9" * 19, "9" * 16 + "KiB", "9" * 13 + "MiB", "9" * 10 + "GiB", "9" * 7 + "TiB"}
    | {"1" + "0" * 20, "18446744073709551616", "16777216TiB", "17179869184GiB", "17592186044416MiB"}
    | {"0" * 30 + "5GiB"}
    | set(SIZE_EXAMPLES_TAKEN)
    | set(SIZE_EXAMPLES_REFUSED)
)
# The binary also takes these (at least 8 EiB, up to 2^64 - 1 bytes); the
# template's digit counts stop short of them rather than spell out 2^64.
SIZES_ONLY_THE_BINARY_TAKES = {
    "10000000000000000000",
    "18446744073709551615",
    "18014398509481983KiB",
    "17592186044415MiB",
    "17179869183GiB",
    "10000000TiB",
    "16777215TiB",
}


def test_max_object_size_pattern_takes_exactly_what_the_binary_takes(
    source: dict[str, Any], gateway_binary: Path
) -> None:
    pattern = source["Parameters"]["MaxObjectSize"]["AllowedPattern"]
    values = sorted(set(SIZE_VALUES) | SIZES_ONLY_THE_BINARY_TAKES)
    with ThreadPoolExecutor(max_workers=8) as pool:
        binary = dict(zip(values, pool.map(lambda v: binary_takes_size(gateway_binary, v), values)))
    template = {value: re.fullmatch(pattern, value) is not None for value in values}
    for value in SIZES_ONLY_THE_BINARY_TAKES:
        assert binary[value] and not template[value], f"{value!r}: expected the binary alone to take it"
    disagree = [
        f"{value!r}: the template {'takes' if template[value] else 'refuses'} it, the binary "
        f"{'takes' if binary[value] else 'refuses'} it"
        for value in values
        if value not in SIZES_ONLY_THE_BINARY_TAKES and template[value] != binary[value]
    ]
    assert not disagree, "MaxObjectSize's AllowedPattern and the binary disagree:\n" + "\n".join(disagree)
    for value in SIZE_EXAMPLES_TAKEN:
        assert template[value], f"MaxObjectSize {value!r} must be accepted"
    for value in SIZE_EXAMPLES_REFUSED:
        assert not template[value], f"MaxObjectSize {value!r} must be refused"
    # Empty means unset, which the pattern allows and the condition turns into no variable at all.
    assert re.fullmatch(pattern, "") and not binary_takes_size(gateway_binary, "")


@pytest.mark.parametrize("value, taken", [("5GiB", True), ("512 MiB", True), ("", False), ("5XB", False)])
def test_the_function_reads_max_object_size_with_the_same_parser(
    gateway_binary: Path, value: str, taken: bool
) -> None:
    """MAX_OBJECT_SIZE itself, as Lambda passes it."""
    stderr = refusal_with(gateway_binary, "MAX_OBJECT_SIZE", value)
    refused = "MAX_OBJECT_SIZE" in stderr or "--max-object-size" in stderr
    assert refused != taken, f"MAX_OBJECT_SIZE={value!r}: {stderr}"
    if taken:
        assert "EXPIRES_SECONDS" in stderr, stderr


def refusal_with(binary: Path, name: str, value: str) -> str:
    """What the binary says when started with only `name=value` set, as Lambda
    passes it; `--expires 0` stops it before it serves, whatever else it says."""
    result = subprocess.run(
        [str(binary), "serve", "--expires", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", ""), name: value},
    )
    assert result.returncode != 0, "with --expires 0 the binary must refuse to start"
    return result.stderr


# ---- metrics and alarms ------------------------------------------------------------

ALARM = "AWS::CloudWatch::Alarm"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:presign-gateway-alarms"


def test_no_alarms_unless_asked_for(translated: dict[str, Any]) -> None:
    assert translated["Parameters"]["Alarms"]["Default"] == "Disabled"
    for api_type, overrides in CONFIGURATIONS:
        if overrides.get("Alarms") != "Enabled":
            assert not Stack(translated, ApiType=api_type, **overrides).of_type(ALARM), "alarms are opt-in"


@pytest.mark.parametrize("topic", ["", TOPIC], ids=["no-topic", "topic"])
@pytest.mark.parametrize("api_type", API_TYPES)
def test_alarms_watch_the_5xx_rate_and_throttles(translated: dict[str, Any], api_type: str, topic: str) -> None:
    stack = Stack(translated, ApiType=api_type, Alarms="Enabled", AlarmTopicArn=topic, MetricsNamespace="files/prod", ErrorRatePercent=2)
    # The dead-letter alarm (test_an_alarm_watches_the_dead_letter_queue) aside.
    alarms = {n: a for n, a in stack.of_type(ALARM).items() if a["Properties"].get("Namespace") != "AWS/SQS"}
    assert len(alarms) == 2, f"expected the 5xx rate and throttles alarms, found {sorted(alarms)}"
    rate = next(a["Properties"] for a in alarms.values() if "Metrics" in a["Properties"])
    throttles = next(a["Properties"] for a in alarms.values() if "Metrics" not in a["Properties"])

    assert (rate["ComparisonOperator"], str(rate["Threshold"])) == ("GreaterThanThreshold", "2")
    assert rate["TreatMissingData"] == "notBreaching", "no traffic is not an outage"
    queries = {m["Id"]: m for m in rate["Metrics"]}
    returned = [m for m in rate["Metrics"] if m.get("ReturnData", True)]
    assert len(returned) == 1 and "Expression" in returned[0], "the alarm must watch one expression: the rate"
    used = set(re.findall(r"[a-z]\w*", returned[0]["Expression"])) & set(queries)
    stats = {m["MetricStat"]["Metric"]["MetricName"]: m["MetricStat"] for m in queries.values() if "MetricStat" in m}
    assert set(stats) == {"requests"} and len(used) == 2, rate["Metrics"]
    dimension_sets = sorted(
        json.dumps(m["MetricStat"]["Metric"].get("Dimensions", [])) for m in queries.values() if "MetricStat" in m
    )
    # The EMF lines publish `requests` by status class alone and with no dimension (src/metrics/emf.rs).
    assert dimension_sets == sorted([json.dumps([{"Name": "status_class", "Value": "5xx"}]), "[]"])
    for query in queries.values():
        if "MetricStat" in query:
            assert query["MetricStat"]["Metric"]["Namespace"] == "files/prod", "the function's namespace"
            assert query["MetricStat"]["Stat"] == "Sum"

    assert (throttles["Namespace"], throttles["MetricName"]) == ("AWS/Lambda", "Throttles")
    assert throttles["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": FUNCTION}}]
    assert (throttles["ComparisonOperator"], str(throttles["Threshold"])) == ("GreaterThanThreshold", "0")

    for alarm in (rate, throttles):
        if topic:
            assert alarm["AlarmActions"] == [TOPIC] and alarm["OKActions"] == [TOPIC]
        else:
            assert "AlarmActions" not in alarm and "OKActions" not in alarm


@pytest.mark.parametrize("topic", ["", TOPIC], ids=["no-topic", "topic"])
def test_an_alarm_watches_the_dead_letter_queue(translated: dict[str, Any], topic: str) -> None:
    assert not [
        a for a in Stack(translated, Alarms="Enabled", **NO_CATALOG).of_type(ALARM).values()
        if a["Properties"].get("Namespace") == "AWS/SQS"
    ], "no catalog, no queue to watch"
    stack = Stack(translated, Alarms="Enabled", AlarmTopicArn=topic)
    queue, _ = stack.one("AWS::SQS::Queue")
    (alarm,) = [a["Properties"] for a in stack.of_type(ALARM).values() if a["Properties"].get("Namespace") == "AWS/SQS"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    assert (alarm["ComparisonOperator"], str(alarm["Threshold"])) == ("GreaterThanThreshold", "0"), "one event is one too many"
    assert alarm["TreatMissingData"] == "notBreaching"
    if topic:
        assert alarm["AlarmActions"] == [TOPIC] and alarm["OKActions"] == [TOPIC]
    else:
        assert "AlarmActions" not in alarm and "OKActions" not in alarm


def test_an_alarm_topic_needs_alarms(source: dict[str, Any]) -> None:
    assert broken_rules(source, AlarmTopicArn=TOPIC) == [
        "AlarmTopicArn is notified by the alarms, so it needs Alarms Enabled."
    ]
    assert not broken_rules(source, AlarmTopicArn=TOPIC, Alarms="Enabled")
    pattern = source["Parameters"]["AlarmTopicArn"]["AllowedPattern"]
    assert re.fullmatch(pattern, TOPIC) and re.fullmatch(pattern, "")
    for bad in ["arn:aws:sqs:eu-west-1:123456789012:q", "topic", "arn:aws:sns:eu-west-1:12345:t"]:
        assert not re.fullmatch(pattern, bad), bad


def namespace_taken(binary: Path, value: str) -> bool:
    """Whether the binary takes METRICS_NAMESPACE=`value`."""
    return "METRICS_NAMESPACE" not in refusal_with(binary, "METRICS_NAMESPACE", value)


def test_metrics_namespace_pattern_takes_what_the_binary_takes(source: dict[str, Any], gateway_binary: Path) -> None:
    pattern = source["Parameters"]["MetricsNamespace"]["AllowedPattern"]
    values = [
        "presign-gateway",
        "files/prod",
        "a",
        "Team#1:files_v2.x",
        "x" * 255,
        "x" * 256,
        "AWS/S3",
        "AWS/",
        "aws/s3",
        "has space",
        "ünicode",
        "a,b",
        "a*",
    ]
    for value in values:
        assert bool(re.fullmatch(pattern, value)) == namespace_taken(gateway_binary, value), (
            f"MetricsNamespace {value!r}: the template and the binary disagree"
        )
    # Empty: the binary falls back to its default; the template asks for a name.
    assert not re.fullmatch(pattern, "")


def test_stackery_tag_parameters_are_kept_and_used(source: dict[str, Any]) -> None:
    used = set(references({k: v for k, v in source.items() if k != "Parameters"}))
    for name in ("StackTagName", "EnvironmentTagName"):
        assert source["Parameters"][name]["Type"] == "String"
        assert name in used, f"{name} is declared but not used"


# ---- upload events -------------------------------------------------------------


def events_permissions(stack: Stack) -> dict[str, dict[str, Any]]:
    """Lambda permissions that let EventBridge invoke a function."""
    return {
        name: r
        for name, r in stack.of_type("AWS::Lambda::Permission").items()
        if r["Properties"]["Principal"] == "events.amazonaws.com"
    }


def pattern_matches(pattern: Any, event: Any) -> bool:
    """EventBridge's matching, for what the rules use: nested objects (every
    field present and matching), lists of matchers (any one), exact values,
    {"prefix": ...}, {"anything-but": {"prefix": ...}} and {"anything-but": [...]}."""
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(k in event and pattern_matches(v, event[k]) for k, v in pattern.items())
    return any(matcher_matches(m, event) for m in as_list(pattern))


def matcher_matches(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, dict):
        return matcher == value
    ((operator, argument),) = matcher.items()
    if operator == "prefix":
        return isinstance(value, str) and value.startswith(argument)
    if operator == "anything-but" and isinstance(argument, dict):
        ((inner, text),) = argument.items()
        assert inner == "prefix", f"anything-but {inner}: not evaluated by this test"
        return isinstance(value, str) and not value.startswith(text)
    if operator == "anything-but":
        return value not in as_list(argument)
    raise AssertionError(f"an operator this test cannot evaluate: {matcher!r}")


def s3_event(detail_type: str, bucket: str, key: str, **detail: str) -> dict[str, Any]:
    """S3's EventBridge event (docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html), trimmed."""
    reason = "DeleteObject" if detail_type == "Object Deleted" else "PutObject"
    return {
        "source": "aws.s3",
        "detail-type": detail_type,
        "detail": {
            "bucket": {"name": bucket},
            "object": {"key": key, "sequencer": "01"},
            "reason": reason,
            **detail,
        },
    }


def rendition_event(detail_type: str, bucket: str, key: str) -> dict[str, Any]:
    """The processor's own event about the original at `key` (src/wire/events.rs), trimmed."""
    made = {"name": "thumb", "key": f"_renditions/{'0' * 32}/etag/thumb.jpg", "width": 320, "height": 240}
    return {
        "source": "presign-gateway",
        "detail-type": detail_type,
        "detail": {
            "bucket": {"name": bucket},
            "object": {"key": key, "etag": "d41d8cd98f00b204e9800998ecf8427e"},
            "rendition": made if detail_type == "Rendition Ready" else None,
        },
    }


def concrete(pattern: Any, bucket: str) -> Any:
    """The pattern as EventBridge gets it, the bucket's name in place of its Ref."""
    return json.loads(json.dumps(pattern).replace(json.dumps({"Ref": bucket}), '"files"'))


def rule_targeting(stack: Stack, arn: Any) -> tuple[str, dict[str, Any]]:
    (found,) = [(n, r) for n, r in stack.of_type("AWS::Events::Rule").items() if [t["Arn"] for t in r["Properties"]["Targets"]] == [arn]]
    return found


@pytest.mark.parametrize("target", ["", LAMBDA_TARGET], ids=["without-target", "with-target"])
def test_the_bucket_sends_its_events_to_eventbridge(translated: dict[str, Any], target: str) -> None:
    _, bucket = Stack(translated, UploadEventsTarget=target).one("AWS::S3::Bucket")
    assert bucket["Properties"]["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }


def test_without_a_target_nothing_else_is_created(translated: dict[str, Any]) -> None:
    stack = Stack(translated, **NO_CATALOG)
    assert not stack.of_type("AWS::Events::Rule")
    assert not events_permissions(stack)
    assert "UploadEventsRuleArn" not in stack.outputs
    # With the catalog, the processor's rule and permission alone.
    stack = Stack(translated)
    assert list(stack.of_type("AWS::Events::Rule")) == ["ProcessorRule"]
    assert list(events_permissions(stack)) == ["ProcessorInvokePermission"]
    assert "UploadEventsRuleArn" not in stack.outputs


@pytest.mark.parametrize("catalog", ["Enabled", "Disabled"])
@pytest.mark.parametrize("key_prefix", ["", "uploads/"])
@pytest.mark.parametrize(
    "target, is_lambda",
    [
        (LAMBDA_TARGET, True),
        (LAMBDA_TARGET + ":live", True),
        (QUEUE_TARGET, False),
        (TOPIC_TARGET, False),
    ],
    ids=["lambda", "lambda-alias", "queue", "topic"],
)
def test_a_target_gets_created_and_deleted_events_under_the_key_prefix(
    translated: dict[str, Any], key_prefix: str, target: str, is_lambda: bool, catalog: str
) -> None:
    assert not broken_rules(translated, UploadEventsTarget=target, KeyPrefix=key_prefix, Catalog=catalog)
    stack = Stack(translated, UploadEventsTarget=target, KeyPrefix=key_prefix, Catalog=catalog)
    bucket, _ = stack.one("AWS::S3::Bucket")
    rule_name, rule = rule_targeting(stack, target)
    props = rule["Properties"]
    assert props["State"] == "ENABLED"
    assert "EventBusName" not in props, "S3 sends to the default bus"
    assert [t["Arn"] for t in props["Targets"]] == [target]
    pattern = props["EventPattern"]
    if catalog == "Enabled":
        # The processor's rendition events too, about originals of this bucket.
        assert pattern["source"] == ["aws.s3", "presign-gateway"]
        assert sorted(pattern["detail-type"]) == ["Object Created", "Object Deleted", "Rendition Failed", "Rendition Ready"]
    else:
        assert pattern["source"] == ["aws.s3"]
        assert sorted(pattern["detail-type"]) == ["Object Created", "Object Deleted"]
    assert pattern["detail"]["bucket"] == {"name": [{"Ref": bucket}]}
    # With the bucket's name known, the pattern takes exactly the gateway's events.
    matches = concrete(pattern, bucket)
    inside = f"{key_prefix}tenants/acme/report.pdf"
    assert pattern_matches(matches, s3_event("Object Created", "files", inside))
    assert pattern_matches(matches, s3_event("Object Deleted", "files", inside))
    assert pattern_matches(matches, s3_event("Object Deleted", "files", inside, **{"deletion-type": "Delete Marker Created"}))
    assert not pattern_matches(matches, s3_event("Object Restore Completed", "files", inside))
    assert not pattern_matches(matches, s3_event("Object Created", "other-bucket", inside))
    rendition = f"{key_prefix}_renditions/{'0' * 32}/d41d8cd98f00b204e9800998ecf8427e/thumb.jpg"
    for told in ("Rendition Ready", "Rendition Failed"):
        assert pattern_matches(matches, rendition_event(told, "files", inside)) == (catalog == "Enabled"), told
        assert not pattern_matches(matches, rendition_event(told, "other-bucket", inside)), told
    assert not pattern_matches(matches, {**rendition_event("Rendition Ready", "files", inside), "source": "someone.else"})
    if catalog == "Enabled":
        # Renditions are left out, as from the local store's events; one
        # field takes one condition, so keys outside KeyPrefix are let in.
        assert not pattern_matches(matches, s3_event("Object Created", "files", rendition))
        assert pattern_matches(matches, s3_event("Object Created", "files", "elsewhere/x"))
    else:
        assert pattern_matches(matches, s3_event("Object Created", "files", "elsewhere/x")) == (key_prefix == "")

    permissions = {n: p for n, p in events_permissions(stack).items() if p["Properties"]["FunctionName"] == target}
    if is_lambda:
        ((_, permission),) = permissions.items()
        assert permission["Properties"]["Action"] == "lambda:InvokeFunction"
        assert permission["Properties"]["FunctionName"] == target
        assert is_getatt(permission["Properties"]["SourceArn"], rule_name, "Arn"), "only this rule may invoke"
    else:
        assert not permissions, "a queue's or topic's policy is its owner's (the README gives the statement)"
    assert is_getatt(stack.outputs["UploadEventsRuleArn"]["Value"], rule_name, "Arn")


def test_upload_events_target_takes_lambda_queue_and_topic_arns_only(source: dict[str, Any]) -> None:
    pattern = source["Parameters"]["UploadEventsTarget"]["AllowedPattern"]
    for good in ["", LAMBDA_TARGET, LAMBDA_TARGET + ":live", QUEUE_TARGET, TOPIC_TARGET, QUEUE_TARGET + ".fifo",
                 "arn:aws-cn:sqs:cn-north-1:123456789012:q"]:
        assert re.fullmatch(pattern, good), good
    for bad in ["on-upload", "arn:aws:s3:::bucket", "arn:aws:lambda:us-east-1:1234:function:f", " " + QUEUE_TARGET]:
        assert not re.fullmatch(pattern, bad), f"UploadEventsTarget {bad!r} must be refused"


# ---- the log and renditions (Catalog) ------------------------------------------

TABLE = "StateTable"
PROCESSOR_ROLE_ENV = "FUNCTION_ROLE"  # read by main.rs to pick the function's part, not a `serve` flag
RENDITION_PRESETS_TAKEN = [
    "none",
    "thumb=320x320",
    "thumb=320x320,large=1280x720",
    "thumb=320x320,large=1280x720,upside=1280x720:rotate180,square=256x256:cover:q90",
    "a=1x1:png",
    "big-one=8192x8192:fit:jpeg:q100:rotate270",
]
RENDITION_PRESETS_REFUSED = [
    "",
    "thumb",
    "thumb=320",
    "thumb=0x320",
    "Thumb=320x320",
    "thumb=320x320:sepia",
    "thumb=320x320:q0",
    "thumb=320x320:q101",
    "thumb=320x320, large=1280x720",
    "thumb=320x320,",
    "-x=1x1",
    "x" * 33 + "=1x1",
    "thumb=10000x1",
]


def variables_of(stack: Stack, function: str) -> dict[str, Any]:
    return stack.resources[function]["Properties"]["Environment"]["Variables"]


@pytest.mark.parametrize("catalog", ["Enabled", "Disabled"])
def test_the_sam_transform_and_cfn_lint_pass_for_both_catalog_settings(
    source: dict[str, Any], tmp_path: Path, catalog: str
) -> None:
    assert source["Parameters"]["Catalog"]["AllowedValues"] == ["Enabled", "Disabled"]
    assert source["Parameters"]["Catalog"]["Default"] == "Enabled"
    translated = translate(source, Catalog=catalog)
    out = tmp_path / f"translated-{catalog}.json"
    out.write_text(json.dumps(translated, indent=1))
    problems = errors_and_warnings(out)
    assert not problems, f"cfn-lint on the template translated with Catalog={catalog}:\n" + "\n".join(problems)
    stack = Stack(translated, Catalog=catalog)
    assert (PROCESSOR in stack.resources) == (catalog == "Enabled")


def test_the_state_table_is_on_demand_recoverable_encrypted_and_expires_items(translated: dict[str, Any]) -> None:
    stack = Stack(translated)
    name, table = stack.one("AWS::DynamoDB::Table")
    assert name == TABLE
    # Kept like the bucket, whose objects it describes.
    _, bucket = stack.one("AWS::S3::Bucket")
    assert (table.get("DeletionPolicy"), table.get("UpdateReplacePolicy")) == ("Retain", "Retain")
    assert (bucket.get("DeletionPolicy"), bucket.get("UpdateReplacePolicy")) == ("Retain", "Retain")
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in props
    assert sorted((a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]) == [("pk", "S"), ("sk", "S")]
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert "KMSMasterKeyId" not in props["SSESpecification"], "the AWS managed key: no kms: grants needed"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    # The binary reads the base table only, consistently (moto's and DynamoDB's indexes differ there).
    assert not props.get("GlobalSecondaryIndexes") and not props.get("LocalSecondaryIndexes")
    assert "TableName" not in props, "a generated name: two stacks in one account never collide"
    assert is_ref(stack.outputs["StateTableName"]["Value"], TABLE)


def test_without_the_catalog_there_is_no_table_no_processor_and_no_state_variable(translated: dict[str, Any]) -> None:
    for api_type, overrides in CONFIGURATIONS:
        stack = Stack(translated, ApiType=api_type, **overrides)
        catalog = overrides.get("Catalog", "Enabled") == "Enabled"
        kinds = {r["Type"] for r in stack.resources.values()}
        assert ("AWS::DynamoDB::Table" in kinds) == catalog
        assert ("AWS::SQS::Queue" in kinds) == catalog
        assert (PROCESSOR in stack.resources) == catalog
        assert ("ProcessorRule" in stack.resources) == catalog
        gateway = variables_of(stack, FUNCTION)
        assert ("STATE_TABLE" in gateway) == catalog and ("RENDITIONS" in gateway) == catalog
        assert {"StateTableName", "ProcessorFunctionName", "ProcessorDeadLetterQueueUrl"} & set(stack.outputs) == (
            {"StateTableName", "ProcessorFunctionName", "ProcessorDeadLetterQueueUrl"} if catalog else set()
        )


def test_the_gateway_gets_the_table_and_the_preset_names(translated: dict[str, Any]) -> None:
    stack = Stack(translated, Renditions="thumb=320x320,upside=1280x720:rotate180")
    gateway = variables_of(stack, FUNCTION)
    assert is_ref(gateway["STATE_TABLE"], TABLE)
    assert gateway["RENDITIONS"] == "thumb=320x320,upside=1280x720:rotate180"
    assert PROCESSOR_ROLE_ENV not in gateway, "unset is the HTTP function"
    assert not {"MAX_IMAGE_BYTES", "MAX_IMAGE_PIXELS"} & set(gateway), "the gateway decodes no image"


def test_the_processor_is_the_same_binary_in_its_processor_role(translated: dict[str, Any], source: dict[str, Any]) -> None:
    assert source["Parameters"]["Renditions"]["Default"] == "thumb=320x320,large=1280x720"
    stack = Stack(translated, KeyPrefix="uploads/", TenantFolder="orgs", AuthMode="authorizer", MaxImageBytes=1048576, MaxImagePixels=4000000)
    processor, gateway = variables_of(stack, PROCESSOR), variables_of(stack, FUNCTION)
    assert processor[PROCESSOR_ROLE_ENV] == "processor"
    assert is_ref(processor["STATE_TABLE"], TABLE)
    # The bucket, prefix and tenancy exactly as the gateway has them.
    for name in ("BUCKET_NAME", "KEY_PREFIX", "AUTH_MODE", "TENANT_FOLDER", "RENDITIONS", "STATE_TABLE", "LOG_LEVEL"):
        assert processor[name] == gateway[name], f"{name}: the processor has {processor[name]!r}, the gateway {gateway[name]!r}"
    assert processor["RENDITIONS"] == "thumb=320x320,large=1280x720"
    assert (processor["MAX_IMAGE_BYTES"], processor["MAX_IMAGE_PIXELS"]) == ("1048576", "4000000")
    assert processor["EVENT_BUS"] == "default", "rendition events go where S3's arrive"
    assert "EVENT_BUS" not in gateway, "the gateway renders nothing"
    assert not SECRET_ENV & set(processor) and "SHARE_KEYS_SECRET_ARN" not in processor, "the processor signs nothing"
    assert not LOCAL_ONLY_ENV & set(processor)


def test_the_processor_sets_only_variables_the_binary_reads(translated: dict[str, Any], binary_env_names: set[str]) -> None:
    variables = set(Stack(translated).resources[PROCESSOR]["Properties"]["Environment"]["Variables"])
    unknown = variables - binary_env_names - {PROCESSOR_ROLE_ENV}
    assert not unknown, f"the binary reads none of {sorted(unknown)}; it reads {sorted(binary_env_names)}"


@pytest.mark.parametrize("reserved", ["", "1", "25"], ids=["unset", "one", "some"])
def test_processor_memory_and_reserved_concurrency(source: dict[str, Any], reserved: str) -> None:
    params = source["Parameters"]
    assert params["ProcessorMemory"]["Default"] == 1536 and params["ProcessorReservedConcurrency"]["Default"] == ""
    translated = translate(source, ProcessorReservedConcurrency=reserved)
    props = Stack(translated, ProcessorReservedConcurrency=reserved, ProcessorMemory=3008).resources[PROCESSOR]["Properties"]
    assert str(props["MemorySize"]) == "3008"
    if reserved:
        assert props["ReservedConcurrentExecutions"] == reserved
    else:
        # New accounts cannot reserve: no property at all, not a zero (which stops the function).
        assert "ReservedConcurrentExecutions" not in props
    assert "ReservedConcurrentExecutions" not in Stack(translated).resources[FUNCTION]["Properties"]
    pattern = params["ProcessorReservedConcurrency"]["AllowedPattern"]
    for good in ["", "1", "10", "99999"]:
        assert re.fullmatch(pattern, good), good
    for bad in ["0", "-1", "1.5", " 5", "five", "010"]:
        assert not re.fullmatch(pattern, bad), f"ProcessorReservedConcurrency {bad!r} must be refused"


@pytest.mark.parametrize("key_prefix", ["", "uploads/", "a/b/"])
def test_the_processor_rule_takes_the_buckets_objects_but_not_renditions(translated: dict[str, Any], key_prefix: str) -> None:
    stack = Stack(translated, KeyPrefix=key_prefix)
    bucket, _ = stack.one("AWS::S3::Bucket")
    queue, _ = stack.one("AWS::SQS::Queue")
    name, rule = rule_targeting(stack, {"Fn::GetAtt": [PROCESSOR, "Arn"]})
    props = rule["Properties"]
    assert props["State"] == "ENABLED" and "EventBusName" not in props, "S3 sends to the default bus"
    pattern = props["EventPattern"]
    assert pattern["source"] == ["aws.s3"]
    # S3 has no `Delete Marker Created` detail-type: a versioned bucket's
    # deletion is `Object Deleted` with that deletion-type.
    assert sorted(pattern["detail-type"]) == ["Object Created", "Object Deleted"]
    matches = concrete(pattern, bucket)
    rendition_root = f"{key_prefix}_renditions/"
    assert pattern["detail"]["object"]["key"] == [{"anything-but": {"prefix": rendition_root}}]
    for key in [f"{key_prefix}photo.jpg", f"{key_prefix}tenants/acme/a b/IMG_0001.JPG", f"{key_prefix}_renditionsX/a.jpg"]:
        assert pattern_matches(matches, s3_event("Object Created", "files", key)), key
        assert pattern_matches(matches, s3_event("Object Deleted", "files", key, **{"deletion-type": "Permanently Deleted"}))
        assert pattern_matches(matches, s3_event("Object Deleted", "files", key, **{"deletion-type": "Delete Marker Created"}))
        assert not pattern_matches(matches, s3_event("Object Created", "other-bucket", key))
        assert not pattern_matches(matches, s3_event("Object Restore Completed", "files", key))
    for key in [f"{rendition_root}{'ab' * 16}/d41d8cd98f00b204e9800998ecf8427e/thumb.jpg", f"{rendition_root}x"]:
        for detail_type in ("Object Created", "Object Deleted"):
            assert not pattern_matches(matches, s3_event(detail_type, "files", key)), f"{key}: the processor would trigger itself"
    for told in ("Rendition Ready", "Rendition Failed"):
        event = rendition_event(told, "files", f"{key_prefix}photo.jpg")
        assert not pattern_matches(matches, event), f"{told}: the processor would hear its own events"

    (target,) = props["Targets"]
    assert is_getatt(target["DeadLetterConfig"]["Arn"], queue, "Arn"), "undeliverable events go to the dead-letter queue"
    assert 0 < int(target["RetryPolicy"]["MaximumRetryAttempts"]) <= 185
    assert 60 <= int(target["RetryPolicy"]["MaximumEventAgeInSeconds"]) <= 86400
    (permission,) = [p["Properties"] for p in events_permissions(stack).values() if is_ref(p["Properties"]["FunctionName"], PROCESSOR)]
    assert permission["Action"] == "lambda:InvokeFunction"
    assert is_getatt(permission["SourceArn"], name, "Arn"), "only this rule may invoke the processor"


def test_failed_events_land_in_an_encrypted_dead_letter_queue(translated: dict[str, Any]) -> None:
    stack = Stack(translated)
    queue, resource = stack.one("AWS::SQS::Queue")
    props = resource["Properties"]
    assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, "the queue must be encrypted"
    assert int(props["MessageRetentionPeriod"]) == 1209600, "14 days, SQS's longest, to find and redrive them"
    # The function's own failures, after Lambda's retries of an asynchronous invocation.
    function = translated["Resources"][PROCESSOR]["Properties"]
    assert is_getatt(function["DeadLetterConfig"]["TargetArn"], queue, "Arn")
    (invoke_config,) = [
        r["Properties"] for r in stack.of_type("AWS::Lambda::EventInvokeConfig").values() if is_ref(r["Properties"]["FunctionName"], PROCESSOR)
    ]
    assert int(invoke_config["MaximumRetryAttempts"]) == 2
    # EventBridge may send only for the processor's rule.
    (policy,) = [p["Properties"] for p in stack.of_type("AWS::SQS::QueuePolicy").values()]
    assert policy["Queues"] == [{"Ref": queue}]
    statements = as_list(policy["PolicyDocument"]["Statement"])
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Sid": "EventBridgeDeadLetters",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": {"Fn::GetAtt": [queue, "Arn"]},
            "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ProcessorRule", "Arn"]}}},
        }
    ]
    assert any(
        s["Effect"] == "Deny" and str(s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")).lower() == "false"
        for s in statements
    ), "TLS only, as for the bucket"
    assert is_ref(stack.outputs["ProcessorDeadLetterQueueUrl"]["Value"], queue)


@pytest.mark.parametrize("key_prefix", ["", "uploads/"])
def test_the_processor_may_read_originals_write_renditions_and_keep_the_log_only(
    translated: dict[str, Any], key_prefix: str
) -> None:
    stack = Stack(translated, KeyPrefix=key_prefix)
    assert stack.resources[PROCESSOR]["Properties"]["Role"] != stack.resources[FUNCTION]["Properties"]["Role"], (
        "a role of its own: the gateway's signs URLs, the processor's writes renditions"
    )
    bucket, _ = stack.one("AWS::S3::Bucket")
    queue, _ = stack.one("AWS::SQS::Queue")
    log_group = stack.resources[PROCESSOR]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    statements = role_statements(stack, PROCESSOR)
    for statement in statements:
        assert statement["Effect"] == "Allow", statement
        assert "NotAction" not in statement and "NotResource" not in statement, statement
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"no wildcard actions: {action}"
        for resource in as_list(statement["Resource"]):
            assert resource != "*", f"no resource-wide grants: {statement}"

    def granted(action: str) -> list[dict[str, Any]]:
        return [s for s in statements if action in as_list(s["Action"])]

    originals = {"Fn::Sub": f"${{{bucket}.Arn}}/{key_prefix}*"}
    renditions = {"Fn::Sub": f"${{{bucket}.Arn}}/{key_prefix}_renditions/*"}
    assert [as_list(s["Resource"]) for s in granted("s3:GetObject")] == [[originals]]
    for action in ("s3:PutObject", "s3:DeleteObject"):
        assert [as_list(s["Resource"]) for s in granted(action)] == [[renditions]], f"{action} on renditions only"
    (listing,) = granted("s3:ListBucket")
    assert as_list(listing["Action"]) == ["s3:ListBucket"] and is_getatt(listing["Resource"], bucket, "Arn")
    assert listing["Condition"] == {"StringLike": {"s3:prefix": f"{key_prefix}_renditions/*"}}
    s3_actions = {a for s in statements for a in as_list(s["Action"]) if a.startswith("s3:")}
    assert s3_actions == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"}
    assert_state_items_only(stack, statements, True)
    (sends,) = granted("sqs:SendMessage")
    assert as_list(sends["Action"]) == ["sqs:SendMessage"] and is_getatt(sends["Resource"], queue, "Arn")
    # Its own events on the default bus, and no one else's: a source of
    # `aws.s3` would let it forge storage's events to the processor.
    (tells,) = granted("events:PutEvents")
    assert as_list(tells["Action"]) == ["events:PutEvents"]
    assert tells["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"}
    assert tells["Condition"] == {"StringEquals": {"events:source": "presign-gateway"}}
    logs = [s for s in statements if set(as_list(s["Action"])) <= LOG_ACTIONS]
    assert logs and all(is_getatt(r, log_group, "Arn") for s in logs for r in as_list(s["Resource"]))
    everything = {a for s in statements for a in as_list(s["Action"])}
    assert everything == s3_actions | STATE_ACTIONS | {"sqs:SendMessage", "events:PutEvents"} | LOG_ACTIONS, sorted(everything)


def test_renditions_pattern_takes_the_preset_grammar(source: dict[str, Any]) -> None:
    pattern = source["Parameters"]["Renditions"]["AllowedPattern"]
    for value in RENDITION_PRESETS_TAKEN:
        assert re.fullmatch(pattern, value), f"Renditions {value!r} must be accepted"
    for value in RENDITION_PRESETS_REFUSED:
        assert not re.fullmatch(pattern, value), f"Renditions {value!r} must be refused"


def test_the_binary_takes_every_preset_list_the_template_lets_through(gateway_binary: Path) -> None:
    """A RENDITIONS the binary refused would stop both functions at start-up."""
    for value in RENDITION_PRESETS_TAKEN:
        stderr = refusal_with(gateway_binary, "RENDITIONS", value)
        assert "RENDITIONS" not in stderr and "--renditions" not in stderr, f"RENDITIONS={value!r}: {stderr}"
        assert "EXPIRES_SECONDS" in stderr, stderr


# ---- stackery/ ---------------------------------------------------------------------


def environment_files() -> list[Path]:
    return sorted(ENVIRONMENTS.glob("*.json"))


def test_dev_and_prod_environments_exist() -> None:
    names = {p.stem for p in environment_files()}
    assert {"dev", "prod"} <= names, f"stackery/environments has {sorted(names)}"


def check_value(name: str, spec: dict[str, Any], value: Any) -> list[str]:
    problems = []
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return [f"{name}: {value!r} is not a string or a number"]
    text = str(value)
    if "AllowedValues" in spec and text not in [str(v) for v in spec["AllowedValues"]]:
        problems.append(f"{name}: {text!r} is not one of {spec['AllowedValues']}")
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], text):
        problems.append(f"{name}: {text!r} does not match {spec['AllowedPattern']}")
    if spec["Type"] == "Number":
        try:
            number = float(text)
        except ValueError:
            return problems + [f"{name}: {text!r} is not a number"]
        if "MinValue" in spec and number < float(spec["MinValue"]):
            problems.append(f"{name}: {text} is below {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            problems.append(f"{name}: {text} is above {spec['MaxValue']}")
    if "MinLength" in spec and len(text) < int(spec["MinLength"]):
        problems.append(f"{name}: {text!r} is shorter than {spec['MinLength']}")
    if "MaxLength" in spec and len(text) > int(spec["MaxLength"]):
        problems.append(f"{name}: {text!r} is longer than {spec['MaxLength']}")
    # stackery/deploy passes each value as Key="value".
    if re.search(r'["\\\s]', text):
        problems.append(f"{name}: {text!r} has a quote, backslash or space, which stackery/deploy cannot pass")
    return problems


@pytest.mark.parametrize("path", environment_files(), ids=lambda p: p.name)
def test_environment_file_fits_the_template(source: dict[str, Any], path: Path) -> None:
    values = json.loads(path.read_text())
    assert isinstance(values, dict), f"{path.name} must be a JSON object of parameter name to value"
    declared = source["Parameters"]
    problems = [f"{name}: not a parameter of template.yaml" for name in sorted(set(values) - set(declared))]
    problems += [
        f"{name}: stackery/deploy sets it" for name in sorted({"StackTagName", "EnvironmentTagName"} & set(values))
    ]
    problems += [p for name, value in values.items() if name in declared for p in check_value(name, declared[name], value)]
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
    # The template's Rules, evaluated as CloudFormation would before deploying.
    broken = broken_rules(source, **values)
    assert not broken, f"{path.name}:\n" + "\n".join(broken)
    Stack(source, **values)  # every condition evaluates with these values


@pytest.mark.skipif(shutil.which("jq") is None, reason="stackery/deploy needs jq")
@pytest.mark.parametrize("path", environment_files(), ids=lambda p: p.name)
def test_deploy_passes_every_value_of_the_environment(path: Path) -> None:
    result = subprocess.run([str(DEPLOY), "--dry-run", path.stem], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    argv = shlex.split(result.stdout)
    assert argv[:2] == ["sam", "deploy"]
    assert argv[argv.index("--stack-name") + 1] == f"presign-gateway-{path.stem}"
    overrides = argv[argv.index("--parameter-overrides") + 1]
    passed = dict(re.findall(r'(\w+)="([^"]*)"', overrides))
    expected = {k: str(v) for k, v in json.loads(path.read_text()).items()}
    expected |= {"StackTagName": "presign-gateway", "EnvironmentTagName": path.stem}
    assert passed == expected
    assert "CAPABILITY_IAM" in argv


def test_prebuild_hook_is_an_executable_strict_bash_script() -> None:
    assert PREBUILD.is_file(), f"{PREBUILD} is missing"
    assert os.access(PREBUILD, os.X_OK), f"{PREBUILD.name} is not executable (chmod +x)"
    text = PREBUILD.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert "cargo lambda build --release --arm64" in text
    for script in (PREBUILD, DEPLOY):
        check = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert check.returncode == 0, f"bash -n {script.name}: {check.stderr}"
    assert os.access(DEPLOY, os.X_OK), f"{DEPLOY.name} is not executable"


def fake_cargo(directory: Path, has_lambda: bool) -> Path:
    """A `cargo` that records its arguments and, if it 'has' cargo-lambda, produces the artifact."""
    log = directory / "cargo.log"
    script = directory / "cargo"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{log}"\n'
        + (
            '[ "$1" = lambda ] || exit 1\n'
            '[ "$2" = build ] && mkdir -p "$CARGO_TARGET_DIR/lambda/presign-gateway" '
            '&& : > "$CARGO_TARGET_DIR/lambda/presign-gateway/bootstrap"\n'
            "exit 0\n"
            if has_lambda
            else 'echo "error: no such command: \\`$1\\`" >&2\nexit 101\n'
        )
    )
    script.chmod(0o755)
    return log


def run_prebuild(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{tmp_path}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CARGO_TARGET_DIR": str(tmp_path / "target"),
    }
    return subprocess.run([str(PREBUILD)], capture_output=True, text=True, env=env, timeout=60)


def test_prebuild_hook_says_how_to_install_cargo_lambda(tmp_path: Path) -> None:
    log = fake_cargo(tmp_path, has_lambda=False)
    result = run_prebuild(tmp_path)
    assert result.returncode != 0
    assert "pip install cargo-lambda" in result.stderr, result.stderr
    assert "build" not in log.read_text(), "it must not try to build without cargo lambda"


def test_prebuild_hook_builds_release_arm64(tmp_path: Path) -> None:
    log = fake_cargo(tmp_path, has_lambda=True)
    result = run_prebuild(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "lambda build --release --arm64" in log.read_text().splitlines()


# ---- throttling ----------------------------------------------------------------------


@pytest.mark.parametrize("api_type", ["HTTP", "REST"])
@pytest.mark.parametrize("rate, burst", [("", ""), ("100", ""), ("", "50"), ("100", "200")])
def test_throttling_is_api_gateways_and_set_only_when_given(
    translated: dict[str, Any], source: dict[str, Any], api_type: str, rate: str, burst: str
) -> None:
    """The local server's --rate-limit counts per tenant in one process; in
    Lambda every instance would count apart, so API Gateway throttles there."""
    values = {"ApiType": api_type, "ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst}
    assert not broken_rules(translated, **values)
    stack = Stack(translated, **values)
    if api_type == "HTTP":
        _, stage = stack.one("AWS::ApiGatewayV2::Stage")
        settings = stage["Properties"].get("DefaultRouteSettings")
    else:
        _, stage = stack.one("AWS::ApiGateway::Stage")
        methods = stage["Properties"].get("MethodSettings")
        settings = None
        if methods:
            (settings,) = methods
            assert (settings.pop("ResourcePath"), settings.pop("HttpMethod")) == ("/*", "*"), "every method"
    expected = {name: value for name, value in {"ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst}.items() if value}
    assert (settings or None) == (expected or None), "the account's limits unless given"
    assert not {"RATE_LIMIT", "RATE_BURST"} & set(variables_of(stack, FUNCTION)), "the function refuses a per-instance limit"


def test_throttling_parameters_take_positive_whole_numbers(source: dict[str, Any]) -> None:
    for name in ("ThrottlingRateLimit", "ThrottlingBurstLimit"):
        pattern = source["Parameters"][name]["AllowedPattern"]
        assert source["Parameters"][name]["Default"] == ""
        for good in ["", "1", "5000"]:
            assert re.fullmatch(pattern, good), f"{name} {good!r}"
        for bad in ["0", "-1", "1.5", " 5", "many", "0100"]:
            assert not re.fullmatch(pattern, bad), f"{name} {bad!r} must be refused"
