// The page's sign-in with an OpenID provider (`/?config` names it): the
// Authorization Code flow with PKCE for a public client (no secret), `state`
// and `nonce` checked, tokens kept in sessionStorage only (this tab, until it
// closes), renewed before they expire with the refresh token when the
// provider grants one (else the visitor signs in again when it runs out),
// and a sign-out. Apps that import the module plug in their own sign-in
// through its `getToken`; this file is the page's.

const STORED = "presign-gateway sign-in"; // {token, id, refresh, exp}
const PENDING = "presign-gateway sign-in pending"; // {state, nonce, verifier, folder}, until the provider answers
const OUT = "presign-gateway signed out"; // the visitor signed out: do not send them back at once
const EARLY = 60; // seconds before its expiry a token is renewed

const bytes64 = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const random = (length) => bytes64(crypto.getRandomValues(new Uint8Array(length)));
const now = () => Date.now() / 1000;

/** A JWT's claims, unverified (the gateway verifies), or null. */
function claimsOf(jwt) {
  try {
    const text = atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(text, (c) => c.charCodeAt(0))));
  } catch {
    return null;
  }
}

function read(name) {
  try {
    return JSON.parse(sessionStorage.getItem(name) ?? "null");
  } catch {
    return null;
  }
}

/**
 * Sign-in with the provider of `config` (`/?config`'s answer), whose answers
 * come back to `redirectUri` (the page's top level, registered with the provider).
 */
export function openidSignIn(config, redirectUri) {
  const { issuer, client_id: clientId, token: which } = config;
  let discovered;
  let refreshing;
  let renewal;

  /** The provider's OpenID configuration, read once. */
  const provider = () =>
    (discovered ??= fetch(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`).then(async (response) => {
      if (!response.ok) throw new Error(`the sign-in provider answered ${response.status}`);
      return response.json();
    }));

  async function tokenRequest(fields) {
    const { token_endpoint: endpoint } = await provider();
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: clientId, ...fields }),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.error_description || answer.error || `the sign-in provider answered ${response.status}`);
    return answer;
  }

  /** Keeps the tokens of `answer` once its ID token checks out (`nonce` too, on a fresh sign-in). */
  function keep(answer, nonce) {
    const before = read(STORED) ?? {};
    const id = answer.id_token ?? before.id;
    const claims = id && claimsOf(id);
    if (answer.id_token) {
      const audience = [claims?.aud].flat();
      if (!claims || claims.iss !== issuer || !audience.includes(clientId)) {
        throw new Error("the sign-in provider sent an ID token for another issuer or client");
      }
      if (nonce !== undefined && claims.nonce !== nonce) throw new Error("the sign-in answer was not for this page's sign-in");
    }
    const token = which === "access" ? answer.access_token : answer.id_token;
    if (!token) throw new Error(`the sign-in provider sent no ${which} token`);
    const exp = claimsOf(token)?.exp ?? now() + (answer.expires_in ?? 300);
    sessionStorage.setItem(STORED, JSON.stringify({ token, id, refresh: answer.refresh_token ?? before.refresh, exp }));
    schedule();
  }

  /** Renews the token a minute before it expires, when a refresh token allows. */
  function schedule() {
    clearTimeout(renewal);
    const stored = read(STORED);
    if (!stored?.refresh) return;
    renewal = setTimeout(() => refresh().catch(() => {}), Math.max(0, (stored.exp - EARLY - now()) * 1000));
  }

  /** One refresh at a time; a refused refresh token signs the visitor out of this tab. */
  function refresh() {
    refreshing ??= (async () => {
      try {
        const stored = read(STORED);
        if (!stored?.refresh) return;
        keep(await tokenRequest({ grant_type: "refresh_token", refresh_token: stored.refresh }));
      } catch {
        forget();
      } finally {
        refreshing = undefined;
      }
    })();
    return refreshing;
  }

  function forget() {
    clearTimeout(renewal);
    sessionStorage.removeItem(STORED);
  }

  schedule();
  return {
    /** The token to send, renewed first when it is about to expire; undefined when signed out. */
    async token() {
      let stored = read(STORED);
      if (stored && stored.exp - EARLY / 2 < now() && stored.refresh) {
        await refresh();
        stored = read(STORED);
      }
      return stored && stored.exp > now() ? stored.token : undefined;
    },

    /** Whether a token is held that has not expired. */
    signedIn() {
      const stored = read(STORED);
      return Boolean(stored && (stored.exp > now() || stored.refresh));
    },

    /** Whether the visitor signed out in this tab (and should not be sent to the provider at once). */
    signedOut() {
      return sessionStorage.getItem(OUT) !== null;
    },

    /** Sends the visitor to the provider; they come back to `folder`. */
    async start(folder) {
      const { authorization_endpoint: endpoint } = await provider();
      const pending = { state: random(16), nonce: random(16), verifier: random(48), folder };
      sessionStorage.setItem(PENDING, JSON.stringify(pending));
      sessionStorage.removeItem(OUT);
      const challenge = bytes64(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(pending.verifier)));
      const url = new URL(endpoint);
      for (const [name, value] of Object.entries({
        response_type: "code",
        client_id: clientId,
        redirect_uri: redirectUri,
        scope: "openid",
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: challenge,
        code_challenge_method: "S256",
      })) url.searchParams.set(name, value);
      location.assign(url.href);
    },

    /**
     * Finishes a sign-in the provider answered (`?code&state` in the address,
     * which is cleaned at once): the folder to open, or null when the page
     * was not opened by the provider. Throws when the answer does not check out.
     */
    async finish() {
      const answer = new URLSearchParams(location.search);
      if (!answer.has("state") || !(answer.has("code") || answer.has("error"))) return null;
      const pending = read(PENDING);
      sessionStorage.removeItem(PENDING);
      history.replaceState(null, "", redirectUri);
      if (!pending || answer.get("state") !== pending.state) {
        throw new Error("the sign-in answer does not match a sign-in this page started");
      }
      if (answer.has("error")) throw new Error(answer.get("error_description") || answer.get("error"));
      if (answer.has("iss") && answer.get("iss") !== issuer) throw new Error("the sign-in answer came from another issuer");
      const fields = { grant_type: "authorization_code", code: answer.get("code"), redirect_uri: redirectUri };
      keep(await tokenRequest({ ...fields, code_verifier: pending.verifier }), pending.nonce);
      return pending.folder ?? "";
    },

    /** Forgets this tab's tokens; then ends the provider's session where it offers that. */
    async signOut() {
      const id = read(STORED)?.id;
      forget();
      sessionStorage.setItem(OUT, "1");
      const endpoint = await provider().then((found) => found.end_session_endpoint, () => undefined);
      if (!endpoint) return;
      const url = new URL(endpoint);
      url.searchParams.set("client_id", clientId);
      url.searchParams.set("post_logout_redirect_uri", redirectUri);
      if (id) url.searchParams.set("id_token_hint", id);
      location.assign(url.href);
    },

    /** Forgets this tab's tokens (the gateway refused them). */
    forget,
  };
}
