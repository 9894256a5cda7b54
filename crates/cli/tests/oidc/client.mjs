// The client side of the DPoP test (RFC 9449), as a record system would be: a key of its own, a
// DPoP-bound access token from the provider, and proofs for the service's API — one good call,
// then the ways a call must fail. Prints the statuses as JSON.
//
//   node client.mjs ISSUER SERVICE [PUBLIC SERVICE2]
//
// With PUBLIC (the address both instances are reached at, as behind a load balancer) and a
// second instance SERVICE2 on the same database, a proof used at one is refused at the other.
import { SignJWT, generateKeyPair, exportJWK, calculateJwkThumbprint } from 'jose';
import { createHash, randomUUID } from 'node:crypto';

const [issuer, service, publicUrl, service2] = process.argv.slice(2);
const b64 = (buf) => Buffer.from(buf).toString('base64url');

async function keyPair() {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  return { privateKey, jwk: await exportJWK(publicKey) };
}

async function proof(key, htm, htu, accessToken, extra = {}) {
  const claims = { htm, htu, jti: randomUUID(), ...extra };
  if (accessToken) claims.ath = b64(createHash('sha256').update(accessToken).digest());
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk });
  if (!('iat' in claims)) jwt.setIssuedAt();
  return jwt.sign(key.privateKey);
}

const key = await keyPair();
const tokenUrl = `${issuer}/token`;
const res = await fetch(tokenUrl, {
  method: 'POST',
  headers: {
    authorization: `Basic ${Buffer.from('legemiddel-test:test-secret').toString('base64')}`,
    'content-type': 'application/x-www-form-urlencoded',
    dpop: await proof(key, 'POST', tokenUrl),
  },
  body: 'grant_type=client_credentials&scope=nhn%3Alegemiddel%2Fprescriber',
});
const token = await res.json();
const url = `${publicUrl ?? service}/api/v1/decide`;
const body = '{"date":"2026-06-01","drug":{"atc":"C10AA05","substance":"atorvastatin"},"use":{"refund_listed":true},"prescriber":{"role":"gp"}}';
const call = async (scheme, dpop, method = 'POST', to = `${service}/api/v1/decide`) => (await fetch(to, {
  method,
  headers: { authorization: `${scheme} ${token.access_token}`, 'content-type': 'application/json', ...(dpop ? { dpop } : {}) },
  body: method === 'POST' ? body : undefined,
})).status;

const good = await proof(key, 'POST', url, token.access_token);
const other = await keyPair();
const out = {
  token_type: token.token_type,
  jkt_matches: JSON.parse(Buffer.from(token.access_token.split('.')[1], 'base64url')).cnf?.jkt === await calculateJwkThumbprint(key.jwk),
  good: await call('DPoP', good),
  replay: await call('DPoP', good),
  wrong_method: await call('DPoP', await proof(key, 'GET', url, token.access_token)),
  wrong_url: await call('DPoP', await proof(key, 'POST', `${publicUrl ?? service}/api/v1/dispense`, token.access_token)),
  other_key: await call('DPoP', await proof(other, 'POST', url, token.access_token)),
  no_ath: await call('DPoP', await proof(key, 'POST', url, null)),
  old: await call('DPoP', await proof(key, 'POST', url, token.access_token, { iat: Math.floor(Date.now() / 1000) - 3600 })),
  as_bearer: await call('Bearer', null),
  without_proof: await call('DPoP', null),
};
if (service2) {
  out.replay_elsewhere = await call('DPoP', good, 'POST', `${service2}/api/v1/decide`);
  out.good_elsewhere = await call('DPoP', await proof(key, 'POST', url, token.access_token), 'POST', `${service2}/api/v1/decide`);
}
console.log(JSON.stringify(out));
