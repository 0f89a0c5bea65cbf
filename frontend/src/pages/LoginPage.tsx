import { useState, type FormEvent } from 'react';
import { Alert, Box, Button, Paper, Stack, TextField, Typography } from '@mui/material';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { useAuth } from '../auth/useAuth';
import { tokenStore } from '../auth/tokenStore';
import { ApiError, errorMessage } from '../api/errors';
import { Caption } from '../components/Caption';

function loginError(error: unknown): string {
  if (error instanceof ApiError && error.status === 401) return 'Wrong username or password';
  return errorMessage(error);
}

/** Log in with the OAuth2 password form; back to where the user was going after. */
export function LoginPage() {
  const { token, login } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? '/';
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [expired] = useState(() => tokenStore.lastLogoutReason() === 'expired');

  if (token !== null && !busy) return <Navigate to={from} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(username, password);
      navigate(from, { replace: true });
    } catch (e) {
      setError(loginError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Box sx={{ minHeight: '100vh', display: 'grid', placeItems: 'center', p: 2 }}>
      <Paper sx={{ p: 4, width: '100%', maxWidth: 380 }}>
        <Box component="form" onSubmit={(e) => void submit(e)} noValidate>
          <Stack spacing={2}>
            <Caption />
            <Typography variant="body2" color="text.secondary">Sign in to the operations console</Typography>
            {expired && !error && <Alert severity="info">Your session ended; please sign in again.</Alert>}
            <TextField label="Username" value={username} onChange={(e) => setUsername(e.target.value)}
              autoComplete="username" autoFocus required fullWidth
              slotProps={{ htmlInput: { 'data-testid': 'login-username' } }} />
            <TextField label="Password" type="password" value={password} onChange={(e) => setPassword(e.target.value)}
              autoComplete="current-password" required fullWidth
              slotProps={{ htmlInput: { 'data-testid': 'login-password' } }} />
            {error && <Alert severity="error" data-testid="login-error">{error}</Alert>}
            <Button type="submit" variant="contained" size="medium" data-testid="login-submit"
              disabled={busy || !username || !password}>
              {busy ? 'Signing in…' : 'Sign in'}
            </Button>
          </Stack>
        </Box>
      </Paper>
    </Box>
  );
}
