import { Alert, Box, Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@mui/material';
import { useStrategies } from '../../api/hooks';
import { Section } from '../../components/Section';
import { QueryView } from '../../components/states';

/**
 * The shipped risk defaults (`config/config.yaml`, `risk_management`). The
 * API has no endpoint for the server's effective values, so they are shown
 * as shipped, with where to change them.
 */
export const SHIPPED_RISK_DEFAULTS: { key: string; value: string; meaning: string }[] = [
  { key: 'max_position_size', value: '1,000,000', meaning: 'units of the base asset, per operation' },
  { key: 'max_daily_loss', value: '500', meaning: 'quote currency, per operation and UTC day' },
  { key: 'default_stop_loss_type', value: 'ATR', meaning: 'ATR | PERCENTAGE | FIXED' },
  { key: 'default_stop_loss_value', value: '1.5', meaning: '1.5 × ATR(14), or 0.02 = 2 %, or a price distance' },
  { key: 'default_take_profit_type', value: 'RISK_REWARD', meaning: 'ATR | PERCENTAGE | FIXED | RISK_REWARD' },
  { key: 'default_take_profit_value', value: '2.0', meaning: '2 × the stop distance (1:2 risk-reward)' },
  { key: 'default_crash_recovery_mode', value: 'CLOSE_ALL', meaning: 'CLOSE_ALL | RESUME | EMERGENCY_EXIT' },
  { key: 'default_emergency_stop_loss_pct', value: '0.05', meaning: '5 % unrealized loss' },
  { key: 'default_data_retention_bars', value: '1000', meaning: 'bars kept per bar size' },
  { key: 'default_quantity', value: '10,000', meaning: 'units of the base asset' },
  { key: 'default_initial_capital', value: '100,000', meaning: 'quote currency' },
];

function StrategyDefaults() {
  const strategies = useStrategies();
  return (
    <QueryView query={strategies}>
      {(data) => (
        <Table>
          <TableHead>
            <TableRow>
              <TableCell>Strategy</TableCell>
              <TableCell>Default parameters</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {data.map((s) => (
              <TableRow key={s.name}>
                <TableCell>{s.name}</TableCell>
                <TableCell sx={{ whiteSpace: 'normal' }}>
                  {Object.entries(s.defaults).map(([k, v]) => `${k} = ${String(v)}`).join(', ')}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </QueryView>
  );
}

/** Read-only view of the risk defaults and where they are configured. */
export function RiskDefaults() {
  return (
    <Section testId="risk-defaults" dense title="Risk defaults (read-only)">
      <Alert severity="info" sx={{ m: 1 }}>
        New operations take these when a setting is left out. They are set on the server in{' '}
        <code>config/config.yaml</code> (<code>risk_management</code>) or with environment variables such as{' '}
        <code>RISK_MANAGEMENT__DEFAULT_QUANTITY=5000</code>, and need a restart. The values below are the shipped
        defaults; the server does not publish its effective values, so check an operation's configuration for what it got.
      </Alert>
      <Table>
        <TableHead>
          <TableRow>
            <TableCell>Setting</TableCell>
            <TableCell>Shipped default</TableCell>
            <TableCell>Meaning</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {SHIPPED_RISK_DEFAULTS.map((row) => (
            <TableRow key={row.key}>
              <TableCell><code>{row.key}</code></TableCell>
              <TableCell>{row.value}</TableCell>
              <TableCell sx={{ whiteSpace: 'normal', color: 'text.secondary' }}>{row.meaning}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <Box sx={{ px: 2, pt: 2 }}>
        <Typography variant="subtitle2">Strategy parameter defaults (from the API)</Typography>
      </Box>
      <StrategyDefaults />
    </Section>
  );
}
