/**
 * `schema.d.ts` is what `npm run gen:api` makes of the committed
 * `openapi.json` (which `tests/integration/test_openapi_client.py` holds to
 * the backend's spec): stale types fail here.
 */
import { describe, expect, it } from 'vitest';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import spec from '../../openapi.json';
import committed from './schema.d.ts?raw';

describe('the generated API types', () => {
  it('are generated from the committed openapi.json', async () => {
    const generated = COMMENT_HEADER + astToString(await openapiTS(JSON.stringify(spec)));
    expect(generated === committed, 'src/api/schema.d.ts is stale: run `npm run gen:api`').toBe(true);
  });
});
