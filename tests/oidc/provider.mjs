// A real OpenID provider for tests/oidc.rs: panva's oidc-provider (pinned in
// package.json) on a free 127.0.0.1 port, with one public test client
// (`files-page`, Authorization Code with PKCE, no secret) and its
// development login and consent forms (any login, any password).
//
// The first line of standard output is `oidc provider listening on <issuer>`.
// Then it reads one command a line on standard input and answers one line:
//
//   redirect <uri>      also accept <uri> as the client's redirect URI (and
//                       post-logout redirect URI)                      -> ok
//   rotate              sign with a new key; the old one leaves the JWKS -> ok <kid>
//   ttl <seconds>       ID tokens issued from now on live this long     -> ok
//   stop | start        close the port (the provider is down) | open it again -> ok
//   login <sub>         sign <sub> in through the forms as the client would, with
//                       PKCE, state and nonce -> token <id_token>
//   sign <claims-json>  a JWT of these claims signed with the current key -> token <jwt>
//   sign-as <kid> <claims-json>  the same, its header naming another kid -> token <jwt>
//   fetches             how many times the JWKS was fetched so far       -> ok <n>
//   hs256 <claims-json> HS256 "signed" with the current public key's PEM -> token <jwt>
//   none <claims-json>  `alg: none` -> token <jwt>
//
// Changing the client or the keys builds a new Provider behind the same port
// (sessions are kept in memory, so they start over); the issuer stays.

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as readline from 'node:readline';

import Provider from 'oidc-provider';
import * as jose from 'jose';

// Standard output is the protocol: the provider's own notices go to standard error.
const say = (line) => process.stdout.write(`${line}\n`);
console.log = console.info = console.warn = (...parts) => console.error(...parts);

const CLIENT_ID = 'files-page';
const CALLBACK = 'http://127.0.0.1/callback';

const redirectUris = [CALLBACK];
let idTokenTtl = 3600;
let signingKey = await newKey();
let provider;

async function newKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid: `key-${crypto.randomUUID()}`, alg: 'RS256', use: 'sig' };
}

function build(issuer) {
  const built = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: redirectUris,
      post_logout_redirect_uris: redirectUris,
    }],
    jwks: { keys: [signingKey] },
    ttl: { IdToken: () => idTokenTtl },
    // Refresh tokens without `offline_access`, as Cognito issues them.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // The gateway reads JWKS with caching; say how long, as providers do.
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['a-cookie-key-for-the-test-provider'] },
  });
  built.on('server_error', (_ctx, error) => console.error('provider error:', error));
  return built;
}

let jwksFetches = 0;
const server = http.createServer((req, res) => {
  if (req.url === '/jwks') {
    jwksFetches += 1;
    res.setHeader('cache-control', 'public, max-age=600');
  }
  provider.callback()(req, res);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;
provider = build(issuer);
say(`oidc provider listening on ${issuer}`);

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

async function login(sub) {
  const cookies = new Map();
  const keep = (response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
  };
  const cookie = () => [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  const go = async (url, init = {}) => {
    const response = await fetch(new URL(url, issuer), {
      ...init, redirect: 'manual', headers: { ...init.headers, cookie: cookie() },
    });
    keep(response);
    return response;
  };
  const verifier = b64url(crypto.randomBytes(32));
  const challenge = b64url(crypto.createHash('sha256').update(verifier).digest());
  const state = b64url(crypto.randomBytes(16));
  const nonce = b64url(crypto.randomBytes(16));
  const authorize = new URL('/auth', issuer);
  for (const [name, value] of Object.entries({
    client_id: CLIENT_ID, response_type: 'code', scope: 'openid', redirect_uri: CALLBACK,
    code_challenge: challenge, code_challenge_method: 'S256', state, nonce,
  })) authorize.searchParams.set(name, value);
  let response = await go(authorize);
  for (let step = 0; step < 10; step += 1) {
    const location = response.headers.get('location');
    if (!location) throw new Error(`the provider answered ${response.status} without a redirect`);
    if (location.startsWith(CALLBACK)) {
      const back = new URL(location);
      if (back.searchParams.get('state') !== state) throw new Error('state changed');
      const code = back.searchParams.get('code');
      if (!code) throw new Error(`no code: ${location}`);
      const tokens = await (await fetch(new URL('/token', issuer), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code', code, redirect_uri: CALLBACK, client_id: CLIENT_ID, code_verifier: verifier,
        }),
      })).json();
      if (!tokens.id_token) throw new Error(`no id_token: ${JSON.stringify(tokens)}`);
      if (jose.decodeJwt(tokens.id_token).nonce !== nonce) throw new Error('nonce changed');
      return tokens.id_token;
    }
    response = await go(location);
    if (new URL(location, issuer).pathname.startsWith('/interaction/')) {
      const form = await response.text();
      const action = form.match(/action="([^"]+)"/)?.[1];
      const prompt = form.match(/name="prompt" value="([^"]+)"/)?.[1];
      if (!action || !prompt) throw new Error(`no form: ${form}`);
      const fields = prompt === 'login' ? { prompt, login: sub, password: 'any' } : { prompt };
      response = await go(action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields),
      });
    }
  }
  throw new Error('too many redirects');
}

async function sign(claims, kid = signingKey.kid) {
  const key = await jose.importJWK(signingKey, 'RS256');
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(key);
}

async function hs256WithThePublicKey(claims) {
  const { d, p, q, dp, dq, qi, ...publicJwk } = signingKey;
  const pem = crypto.createPublicKey({ key: publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: signingKey.kid }).sign(Buffer.from(pem));
}

function unsigned(claims) {
  return `${b64url(JSON.stringify({ alg: 'none', kid: signingKey.kid }))}.${b64url(JSON.stringify(claims))}.`;
}

async function run(line) {
  const at = line.indexOf(' ');
  const [command, rest] = at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1)];
  switch (command) {
    case 'redirect':
      redirectUris.push(rest);
      provider = build(issuer);
      return 'ok';
    case 'rotate':
      signingKey = await newKey();
      provider = build(issuer);
      return `ok ${signingKey.kid}`;
    case 'ttl':
      idTokenTtl = Number(rest);
      provider = build(issuer);
      return 'ok';
    case 'stop':
      await new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); });
      return 'ok';
    case 'start':
      await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
      return 'ok';
    case 'login':
      return `token ${await login(rest)}`;
    case 'sign':
      return `token ${await sign(JSON.parse(rest))}`;
    case 'sign-as': {
      const at = rest.indexOf(' ');
      return `token ${await sign(JSON.parse(rest.slice(at + 1)), rest.slice(0, at))}`;
    }
    case 'fetches':
      return `ok ${jwksFetches}`;
    case 'hs256':
      return `token ${await hs256WithThePublicKey(JSON.parse(rest))}`;
    case 'none':
      return `token ${unsigned(JSON.parse(rest))}`;
    default:
      return `error unknown command ${command}`;
  }
}

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  try {
    say(await run(line.trim()));
  } catch (error) {
    say(`error ${String(error?.message ?? error).replaceAll('\n', ' ')}`);
  }
}
process.exit(0);
