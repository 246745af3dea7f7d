// Another service's view of Maria's tokens: it holds only the JWK Set's URL.
// Usage: node verify.mjs JWKS_URL ISSUER AUDIENCE ALG TOKEN...
// Prints one JSON line per token: {"ok":true,"kid":...,"sub":...} or {"ok":false,"code":...}.
import { createRemoteJWKSet, jwtVerify } from "jose";

const [jwksUrl, issuer, audience, alg, ...tokens] = process.argv.slice(2);
const jwks = createRemoteJWKSet(new URL(jwksUrl));

for (const token of tokens) {
  try {
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer,
      audience,
      algorithms: [alg],
    });
    console.log(JSON.stringify({ ok: true, kid: protectedHeader.kid, sub: payload.sub }));
  } catch (error) {
    console.log(JSON.stringify({ ok: false, code: error.code ?? error.name }));
  }
}
