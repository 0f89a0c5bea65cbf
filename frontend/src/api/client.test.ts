import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, call } from './client';
import { ApiError } from './errors';
import { tokenStore } from '../auth/tokenStore';
import { mockApi } from '../test/utils';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('api client', () => {
  it('sends the bearer token', async () => {
    const server = mockApi({ 'GET /api/auth/me': { username: 'ann', role: 'viewer' } });
    tokenStore.set('abc');
    await expect(call(api.GET('/api/auth/me'))).resolves.toEqual({ username: 'ann', role: 'viewer' });
    expect(server.calls('GET /api/auth/me')[0].request.headers.get('Authorization')).toBe('Bearer abc');
  });

  it('ends the session on a 401 and throws an ApiError', async () => {
    mockApi({ 'GET /api/operations': () => Response.json({ detail: 'expired' }, { status: 401 }) });
    tokenStore.set('abc');
    const error = await call(api.GET('/api/operations')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect(tokenStore.get()).toBeNull();
    expect(tokenStore.lastLogoutReason()).toBe('expired');
  });

  it('does not log out on a failed login', async () => {
    mockApi({ 'POST /api/auth/token': () => Response.json({ detail: 'wrong username or password' }, { status: 401 }) });
    tokenStore.set('abc');
    await expect(call(api.POST('/api/auth/token', {
      body: { username: 'a', password: 'b', scope: '' },
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    }))).rejects.toThrow('wrong username or password');
    expect(tokenStore.get()).toBe('abc');
  });

  it('reports an unreachable server as status 0', async () => {
    vi.stubGlobal('fetch', vi.fn(() => Promise.reject(new TypeError('Failed to fetch'))));
    const error = await call(api.GET('/api/operations')).catch((e: unknown) => e);
    expect((error as ApiError).status).toBe(0);
  });
});
