import { Box, Grid, Typography } from '@mui/material';
import { useAuth } from '../../auth/useAuth';
import { BrokerConfigs } from './BrokerConfigs';
import { KillSwitch } from './KillSwitch';
import { RiskDefaults } from './RiskDefaults';

/** Broker configurations, risk defaults and the kill switch. */
export function SettingsPage() {
  const { user } = useAuth();
  return (
    <Box>
      <Typography variant="h5" component="h1" sx={{ mb: 2 }}>Settings</Typography>
      <Grid container spacing={1.5}>
        <Grid size={{ xs: 12, lg: 8 }}><BrokerConfigs /></Grid>
        <Grid size={{ xs: 12, lg: 4 }}>
          <KillSwitch />
          <Box sx={{ mt: 1.5, color: 'text.secondary' }}>
            <Typography variant="caption">
              Signed in as {user?.username} ({user?.role}). Users and roles are managed with{' '}
              <code>live-trading users</code> or the users API (admin).
            </Typography>
          </Box>
        </Grid>
        <Grid size={12}><RiskDefaults /></Grid>
      </Grid>
    </Box>
  );
}
