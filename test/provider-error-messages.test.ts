import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as client from 'openid-client';
import { translateCallbackError } from '../lib/provider/errors.js';

/** A token endpoint's error answer, as openid-client throws it. */
function tokenError(error: string, description?: string): client.ResponseBodyError {
  const body = { error, ...(description === undefined ? {} : { error_description: description }) };
  return new client.ResponseBodyError('server responded with an error in the response body', {
    cause: body,
    response: new Response(JSON.stringify(body), { status: 400 }),
  });
}

describe('what a refused token request says about DPoP', () => {
  test('invalid_dpop_proof, or a description that names DPoP, to an app without dpop: a configuration error saying to set it', () => {
    for (const err of [tokenError('invalid_dpop_proof'), tokenError('invalid_request', 'DPoP proof is missing')]) {
      const translated = translateCallbackError(err, { dpop: false });
      assert.equal(translated.code, 'OIDC_CONFIG_INVALID');
      assert.equal(translated.status, 500);
      assert.match(translated.message, /requires DPoP-bound tokens for this client \(invalid_\w+\): set "dpop: true"\./);
    }
  });

  test('the same to an app that sent a proof is the provider refusing the code, without the advice', () => {
    const translated = translateCallbackError(tokenError('invalid_dpop_proof'), { dpop: true });
    assert.equal(translated.code, 'OIDC_CALLBACK_INVALID');
    assert.doesNotMatch(translated.message, /set "dpop: true"/);
  });

  test('a bare invalid_grant gets the DPoP hint only when the provider supports DPoP and the app sent no proof', () => {
    assert.match(translateCallbackError(tokenError('invalid_grant'), { dpop: false, dpopSupported: true }).message, /set "dpop: true"/);
    assert.doesNotMatch(translateCallbackError(tokenError('invalid_grant'), { dpop: false, dpopSupported: false }).message, /dpop/i);
    assert.doesNotMatch(translateCallbackError(tokenError('invalid_grant'), { dpop: true, dpopSupported: true }).message, /dpop/i);
    assert.doesNotMatch(translateCallbackError(tokenError('invalid_request'), { dpop: false, dpopSupported: true }).message, /dpop/i);
  });
});
