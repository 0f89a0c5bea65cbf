/**
 * Test helpers: render a component inside every provider the app has (theme,
 * query cache, a logged-in session with a given role, a live feed over a
 * FakeWebSocket, a memory router), and stub the API's fetch by route.
 *
 *   const api = mockApi({ 'GET /api/operations': [op], 'POST /api/operations/x/pause': op });
 *   renderWithProviders(<OperationsPage />, { role: 'viewer', route: '/operations' });
 *   expect(api.calls('POST /api/operations/x/pause')).toHaveLength(1);
 */
import type { ReactElement } from 'react';
import { render, type RenderResult } from '@testing-library/react';
import { QueryClient } from '@tanstack/react-query';
import { MemoryRouter, Route, Routes } from 'react-router';
import { vi } from 'vitest';
import { AppProviders } from '../App';
import type { Role } from '../api/models';
import { queryKeys } from '../api/queryKeys';
import { tokenStore } from '../auth/tokenStore';
import { LiveFeedClient } from '../feed/LiveFeedClient';
import { createFakeSocket } from './fakeWebSocket';

export const TEST_TOKEN = 'test-token';

export type RenderOptions = {
  /** the logged-in user's role; null renders logged out */
  role?: Role | null;
  /** the URL the memory router starts at */
  route?: string;
  /** a route pattern for `ui`, e.g. '/operations/:id' (default: every path) */
  path?: string;
  queryClient?: QueryClient;
  feed?: LiveFeedClient;
};

export type RenderWithProviders = RenderResult & { queryClient: QueryClient; feed: LiveFeedClient };

export function testQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity }, mutations: { retry: false } } });
}

export function testFeed(): LiveFeedClient {
  return new LiveFeedClient({ createSocket: createFakeSocket, baseUrl: 'ws://test', jitter: 0 });
}

export function renderWithProviders(ui: ReactElement, options: RenderOptions = {}): RenderWithProviders {
  const { role = 'admin', route = '/', path = '*' } = options;
  const queryClient = options.queryClient ?? testQueryClient();
  const feed = options.feed ?? testFeed();
  if (role !== null) {
    queryClient.setQueryData([...queryKeys.me, TEST_TOKEN], { username: `test-${role}`, role });
    tokenStore.set(TEST_TOKEN);
  } else {
    tokenStore.clear();
  }
  const result = render(
    <AppProviders queryClient={queryClient} feed={feed}>
      <MemoryRouter initialEntries={[route]}>
        <Routes>
          <Route path={path} element={ui} />
          <Route path="*" element={<div data-testid="other-route" />} />
        </Routes>
      </MemoryRouter>
    </AppProviders>,
  );
  return { ...result, queryClient, feed };
}

type Handler = unknown | ((request: Request, body: unknown) => unknown | Response | Promise<unknown | Response>);

export type MockApi = {
  /** requests made to `METHOD /path` (query string ignored), with their JSON/form bodies */
  calls(route: string): { request: Request; url: URL; body: unknown }[];
  /** every request made, as `METHOD /path?query` */
  log(): string[];
};

/**
 * Stub `fetch`: `routes` maps `METHOD /path` (no query string) to a JSON
 * body, a Response, or a function of the request returning either. An
 * unknown route answers 404.
 */
export function mockApi(routes: Record<string, Handler>): MockApi {
  const made: { key: string; request: Request; url: URL; body: unknown }[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const key = `${request.method} ${url.pathname}`;
    const text = await request.clone().text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = Object.fromEntries(new URLSearchParams(text));
    }
    made.push({ key, request, url, body });
    if (!(key in routes)) return Response.json({ detail: `no mock for ${key}` }, { status: 404 });
    const handler = routes[key];
    const answer = typeof handler === 'function'
      ? await (handler as (r: Request, b: unknown) => unknown)(request, body) : handler;
    return answer instanceof Response ? answer : Response.json(answer);
  });
  vi.stubGlobal('fetch', fetchMock);
  return {
    calls: (route) => made.filter((m) => m.key === route),
    log: () => made.map((m) => `${m.key}${m.url.search}`),
  };
}
