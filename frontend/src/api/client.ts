/**
 * The typed API client (openapi-fetch over the generated `schema.d.ts`).
 * Every request carries the bearer token; a 401 ends the session.
 *
 *   const ops = await call<Operation[]>(api.GET('/api/operations', { params: { query: { status } } }));
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';
import { ApiError } from './errors';
import { tokenStore } from '../auth/tokenStore';

const LOGIN_PATH = '/api/auth/token';

const authMiddleware: Middleware = {
  onRequest({ request }) {
    const token = tokenStore.get();
    if (token && !request.headers.has('Authorization')) {
      request.headers.set('Authorization', `Bearer ${token}`);
    }
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && !new URL(request.url).pathname.endsWith(LOGIN_PATH)) {
      tokenStore.clear('expired');
    }
    return response;
  },
};

export const api = createClient<paths>({
  baseUrl: typeof window !== 'undefined' ? window.location.origin : '',
  // resolved per call so tests can stub the global fetch
  fetch: (request: Request) => globalThis.fetch(request),
});
api.use(authMiddleware);

type FetchResult<T> = { data?: T; error?: unknown; response: Response };

/**
 * Await an openapi-fetch call and return its body, typed by the OpenAPI
 * schema (`T` is inferred from the route; naming it, e.g. `call<Operation>`,
 * only checks that it is what the route answers), or throw an ApiError
 * (status 0 when the server could not be reached).
 */
export async function call<T>(request: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await request;
  } catch (error) {
    throw new ApiError(0, error instanceof Error ? error.message : String(error));
  }
  const { data, error, response } = result;
  if (!response.ok) {
    throw new ApiError(response.status, error, response.headers.get('Retry-After'));
  }
  return data as T;
}
