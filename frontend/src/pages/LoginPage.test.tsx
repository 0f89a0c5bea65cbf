import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router';
import { LoginPage } from './LoginPage';
import { RequireAuth } from '../auth/RequireAuth';
import { tokenStore } from '../auth/tokenStore';
import { mockApi, renderWithProviders } from '../test/utils';

afterEach(() => vi.unstubAllGlobals());

const MODE = { mode: 'trading', broker: 'paper', caption: 'Trading Portal - TRADING' };

function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/secret" element={<RequireAuth><div data-testid="secret">secret page</div></RequireAuth>} />
    </Routes>
  );
}

describe('login', () => {
  it('sends a logged-out user to the login page', async () => {
    mockApi({ 'GET /api/v1/mode': MODE });
    renderWithProviders(<App />, { role: null, route: '/secret' });
    expect(await screen.findByTestId('login-username')).toBeInTheDocument();
    expect(screen.queryByTestId('secret')).not.toBeInTheDocument();
  });

  it('shows an error on wrong credentials', async () => {
    mockApi({
      'GET /api/v1/mode': MODE,
      'POST /api/auth/token': () => Response.json({ detail: 'wrong username or password' }, { status: 401 }),
    });
    renderWithProviders(<App />, { role: null, route: '/login' });
    await userEvent.type(screen.getByTestId('login-username'), 'admin');
    await userEvent.type(screen.getByTestId('login-password'), 'nope');
    await userEvent.click(screen.getByTestId('login-submit'));
    expect(await screen.findByTestId('login-error')).toHaveTextContent('Wrong username or password');
    expect(tokenStore.get()).toBeNull();
  });

  it('posts the OAuth2 form, keeps the token and goes back where the user was going', async () => {
    const api = mockApi({
      'GET /api/v1/mode': MODE,
      'POST /api/auth/token': { access_token: 'jwt', token_type: 'bearer', role: 'trader', expires_in: 3600 },
    });
    renderWithProviders(<App />, { role: null, route: '/secret' });
    await userEvent.type(await screen.findByTestId('login-username'), 'ann');
    await userEvent.type(screen.getByTestId('login-password'), 'pw');
    await userEvent.click(screen.getByTestId('login-submit'));
    expect(await screen.findByTestId('secret')).toBeInTheDocument();
    const [login] = api.calls('POST /api/auth/token');
    expect(login.request.headers.get('Content-Type')).toContain('application/x-www-form-urlencoded');
    expect(login.body).toMatchObject({ username: 'ann', password: 'pw' });
    await waitFor(() => expect(window.sessionStorage.getItem('lt.token')).toBe('jwt'));
  });
});
