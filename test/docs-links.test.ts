import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { anchorsOf, docFiles, linkTargets, readDoc, ROOT } from './helpers/docs.js';

/*
 * Every link a reader can follow from the README or a guide leads somewhere: a relative
 * link names a file or folder of the repository, and its #anchor a heading of that file.
 * Sections move between the README and the guides; a link left pointing at the old place
 * fails here, not in a newcomer's browser. Links to other sites are not fetched (the tests
 * reach only 127.0.0.1).
 */
describe('the links of the README and the guides resolve', () => {
  for (const file of docFiles()) {
    test(`${file}: every relative link names a file that exists, and every #anchor a heading of it`, () => {
      const targets = linkTargets(readDoc(file));
      const broken: string[] = [];
      for (const target of targets) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: another site
        const hash = target.indexOf('#');
        const filePart = hash === -1 ? target : target.slice(0, hash);
        const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
        const resolved = filePart === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), filePart));
        if (!existsSync(path.join(ROOT, resolved))) {
          broken.push(`${target}: ${resolved} does not exist`);
          continue;
        }
        if (anchor === undefined) continue;
        if (!resolved.endsWith('.md') || statSync(path.join(ROOT, resolved)).isDirectory()) {
          broken.push(`${target}: an anchor into ${resolved}, which is not a markdown file`);
          continue;
        }
        if (!anchorsOf(readDoc(resolved)).has(anchor)) broken.push(`${target}: ${resolved} has no heading with the anchor #${anchor}`);
      }
      assert.deepEqual(broken, [], `${file} has broken links`);
    });
  }

  test('the anchors are computed as GitHub computes them', () => {
    const anchors = anchorsOf(
      '# Title\n## Pushed authorization requests (PAR)\n### FAPI 2.0\n## Providers without an end_session_endpoint (Auth0 style)\n## `res.oidc.login()`\n## Title\n```sh\n# not a heading\n```\n',
    );
    assert.deepEqual(
      [...anchors],
      ['title', 'pushed-authorization-requests-par', 'fapi-20', 'providers-without-an-end_session_endpoint-auth0-style', 'resoidclogin', 'title-1'],
    );
  });
});
