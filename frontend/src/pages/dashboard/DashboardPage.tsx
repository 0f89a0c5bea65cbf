import { useMemo, type ReactNode } from 'react';
import { Box, Grid, Paper, Typography } from '@mui/material';
import { useOperations, useOverallStats, useTradesOf } from '../../api/hooks';
import type { Operation } from '../../api/models';
import { Section } from '../../components/Section';
import { ErrorState, Loading, QueryView } from '../../components/states';
import { formatMoney, formatNumber, formatPercent, formatQuantity, pnlColor, quoteCurrency } from '../../format/format';
import { ActiveOperationsTable } from './ActiveOperations';
import { commonQuote, equityPoints } from './equity';
import { EquityCurve } from './EquityCurve';
import { RecentTradesTable } from './RecentTrades';
import { SystemStatus } from './SystemStatus';

function Kpi({ label, value, testId, color, hint }: {
  label: string;
  value: ReactNode;
  testId?: string;
  color?: string;
  hint?: ReactNode;
}) {
  return (
    <Paper sx={{ p: 1.5, height: '100%' }}>
      <Typography variant="caption" color="text.secondary">{label}</Typography>
      <Typography data-testid={testId} variant="h5" sx={{ color, fontVariantNumeric: 'tabular-nums' }}>{value}</Typography>
      {hint && <Typography variant="caption" color="text.secondary">{hint}</Typography>}
    </Paper>
  );
}

const RUNNING = new Set(['active', 'paused', 'error']);

/** Overall P/L, the equity curve, system status, running operations and recent trades. */
export function DashboardPage() {
  const stats = useOverallStats();
  const operations = useOperations({ limit: 1000 });
  const ops = useMemo(() => operations.data ?? [], [operations.data]);
  const byId = useMemo(() => new Map<string, Operation>(ops.map((o) => [o.id, o])), [ops]);
  const trades = useTradesOf(ops.map((o) => o.id));
  const points = useMemo(() => equityPoints(trades.data ?? []), [trades.data]);
  const currency = commonQuote(ops.map((o) => quoteCurrency(o.asset)));
  const s = stats.data;
  const running = ops.filter((o) => RUNNING.has(o.status));
  const activeCount = ops.filter((o) => o.status === 'active').length;

  return (
    <Box data-testid="dashboard">
      <Grid container spacing={1.5}>
        {stats.isError && !s && (
          <Grid size={12}><ErrorState error={stats.error} title="Could not load P/L" onRetry={() => void stats.refetch()} /></Grid>
        )}
        <Grid size={{ xs: 6, md: 3 }}>
          <Kpi label="Realized P/L" testId="dash-realized-pnl" color={pnlColor(s?.realized_pnl)}
            value={s ? formatMoney(s.realized_pnl, currency, true) : '…'}
            hint={s && `${formatQuantity(s.trade_count)} trades · commission ${formatMoney(s.total_commission, currency)}`} />
        </Grid>
        <Grid size={{ xs: 6, md: 3 }}>
          <Kpi label="Unrealized P/L" testId="dash-unrealized-pnl" color={pnlColor(s?.unrealized_pnl)}
            value={s ? formatMoney(s.unrealized_pnl, currency, true) : '…'} hint="open positions at the last price" />
        </Grid>
        <Grid size={{ xs: 6, md: 3 }}>
          <Kpi label="Win rate" value={s ? formatPercent(s.win_rate, 1) : '…'}
            hint={s && `${s.winning_trades} won · ${s.losing_trades} lost · profit factor ${formatNumber(s.profit_factor)}`} />
        </Grid>
        <Grid size={{ xs: 6, md: 3 }}>
          <Kpi label="Max drawdown" value={s ? formatMoney(s.max_drawdown, currency) : '…'}
            hint={s && `${s.operations} operations · ${Object.entries(s.operations_by_status).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}`} />
        </Grid>

        <Grid size={{ xs: 12, lg: 8 }}>
          <Section testId="dash-equity-curve" title={`Equity curve (cumulative realized P/L${currency ? `, ${currency}` : ''})`}>
            {trades.isPending && ops.length > 0 ? <Loading /> : trades.error && !trades.data
              ? <ErrorState error={trades.error} onRetry={trades.refetch} />
              : points.length === 0 ? <Typography color="text.secondary" sx={{ p: 2 }}>No closed trades yet.</Typography>
                : <EquityCurve points={points} />}
          </Section>
        </Grid>
        <Grid size={{ xs: 12, lg: 4 }}>
          <SystemStatus />
        </Grid>

        <Grid size={{ xs: 12, lg: 5 }}>
          <Section dense testId="dash-active-operations"
            title={<>Active operations <Box component="span" data-testid="dash-active-count" sx={{ color: 'text.secondary' }}>({activeCount} active)</Box></>}>
            <QueryView query={operations}>{() => <ActiveOperationsTable operations={running} />}</QueryView>
          </Section>
        </Grid>
        <Grid size={{ xs: 12, lg: 7 }}>
          <Section dense testId="dash-recent-trades" title="Recent trades">
            {operations.isPending || (trades.isPending && ops.length > 0) ? <Loading />
              : trades.error && !trades.data ? <ErrorState error={trades.error} onRetry={trades.refetch} />
                : <RecentTradesTable trades={trades.data ?? []} operations={byId} />}
          </Section>
        </Grid>
      </Grid>
    </Box>
  );
}
