import { Suspense } from 'react';
import { AppBar, Box, Button, Chip, Container, Divider, Toolbar, Tooltip, Typography } from '@mui/material';
import LogoutIcon from '@mui/icons-material/Logout';
import { NavLink, Outlet } from 'react-router';
import { useAuth } from '../auth/useAuth';
import { userTimeZone } from '../format/format';
import { Caption } from './Caption';
import { FeedStatus } from './FeedStatus';
import { Loading } from './states';

type NavItem = { to: string; label: string; testId: string; end?: boolean; role?: 'trader' };

const NAV: NavItem[] = [
  { to: '/', label: 'Dashboard', testId: 'nav-dashboard', end: true },
  { to: '/operations', label: 'Operations', testId: 'nav-operations', end: true },
  { to: '/operations/new', label: 'New operation', testId: 'nav-create', role: 'trader' },
  { to: '/settings', label: 'Settings', testId: 'nav-settings' },
];

/** The app bar (caption, navigation, feed status, user, logout) around every page. */
export function Layout() {
  const { user, can, logout } = useAuth();
  return (
    <Box sx={{ minHeight: '100vh', display: 'flex', flexDirection: 'column' }}>
      <AppBar position="sticky" sx={{ borderBottom: 1, borderColor: 'divider', bgcolor: 'background.paper' }}>
        <Toolbar variant="dense" sx={{ gap: 2 }}>
          <Caption />
          <Box component="nav" sx={{ display: 'flex', gap: 0.5, ml: 2, flexGrow: 1 }}>
            {NAV.filter((item) => !item.role || can(item.role)).map((item) => (
              <Button key={item.to} component={NavLink} to={item.to} end={item.end} data-testid={item.testId}
                color="inherit" sx={{ opacity: 0.75, '&.active': { opacity: 1, bgcolor: 'action.selected' } }}>
                {item.label}
              </Button>
            ))}
          </Box>
          <FeedStatus />
          <Divider orientation="vertical" flexItem />
          <Tooltip title={`Times are shown in ${userTimeZone()}`}>
            <Typography variant="caption" color="text.secondary">{userTimeZone()}</Typography>
          </Tooltip>
          {user && (
            <Chip size="small" label={`${user.username} · ${user.role}`} data-testid="current-user" />
          )}
          <Button data-testid="logout" color="inherit" startIcon={<LogoutIcon fontSize="small" />} onClick={logout}>
            Log out
          </Button>
        </Toolbar>
      </AppBar>
      <Container maxWidth={false} sx={{ py: 2, flexGrow: 1 }}>
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </Container>
    </Box>
  );
}
