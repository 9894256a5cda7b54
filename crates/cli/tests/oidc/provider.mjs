// A real OpenID provider on loopback for `crates/cli/tests/helseid.rs`: panva's oidc-provider,
// issuing JWT access tokens (RFC 9068, ES256) to a client by the client-credentials grant, with
// HelseID-like scopes. Its signing key's id is the second argument, so the test can rotate the
// issuer's keys by starting it again with another.
//
//   node provider.mjs PORT KID
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, kid] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
const scopes = 'nhn:legemiddel/prescriber nhn:legemiddel/pharmacist';

const provider = new Provider(issuer, {
  jwks: { keys: [jwk] },
  clients: [{
    client_id: 'legemiddel-test',
    client_secret: 'test-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    id_token_signed_response_alg: 'ES256',
    scope: scopes,
  }],
  scopes: scopes.split(' '),
  features: {
    clientCredentials: { enabled: true },
    // RFC 9449: a token asked for with a DPoP proof is bound to the proof's key (cnf.jkt).
    dPoP: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:legemiddel',
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: scopes,
        audience: 'legemiddel',
        accessTokenFormat: 'jwt',
        accessTokenTTL: 600,
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});
provider.listen(Number(port), '127.0.0.1', () => console.log('ready'));
