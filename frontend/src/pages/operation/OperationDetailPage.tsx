/**
 * One operation (route /operations/:id): its configuration and results, a
 * candlestick chart of its primary bar size with its trades, its open
 * positions (close by hand), trades, transactions, orders, journal (the
 * audit trail) and the last recovery report; pause / resume / close.
 * Everything refreshes from the live feed, without reloading.
 */
import { memo, useMemo, useState } from 'react';
import { Alert, Box, Button, Chip, Grid, Stack, Typography } from '@mui/material';
import PauseIcon from '@mui/icons-material/Pause';
import PlayArrowIcon from '@mui/icons-material/PlayArrow';
import StopIcon from '@mui/icons-material/Stop';
import { Link as RouterLink, useParams } from 'react-router';
import { ApiError, errorMessage } from '../../api/errors';
import { useOperation, useOperationAction, useOperationStats, useOrders, usePositions } from '../../api/hooks';
import type { Operation, Position } from '../../api/models';
import { useAuth } from '../../auth/useAuth';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Section } from '../../components/Section';
import { ErrorState, Loading } from '../../components/states';
import { StatusChip } from '../../components/StatusChip';
import { formatPrice } from '../../format/format';
import { FIRST_ORDERS_PAGE, OrdersTable, TradesTable, TransactionsTable } from './HistoryTables';
import { JournalTable } from './JournalTable';
import { OperationChart, type PriceLevel } from './OperationChart';
import { OperationConfig } from './OperationConfig';
import { openPositions, ordersInFlight, PositionsTable } from './PositionsTable';
import { RecoveryReportPanel } from './RecoveryReportPanel';
import { barsVersion, useChartData } from './useChartData';

/** Horizontal price lines for the open positions: entry, stop-loss and take-profit. */
export function positionLevels(positions: readonly Position[], asset: string): PriceLevel[] {
  const levels: PriceLevel[] = [];
  for (const p of openPositions(positions)) {
    levels.push({ price: p.entry_price, title: `${p.position_type} ${formatPrice(p.entry_price, asset)}`, kind: 'entry' });
    if (p.stop_loss !== null) levels.push({ price: p.stop_loss, title: 'SL', kind: 'stop' });
    if (p.take_profit !== null) levels.push({ price: p.take_profit, title: 'TP', kind: 'target' });
  }
  return levels;
}

function Actions({ operation }: { operation: Operation }) {
  const { can } = useAuth();
  const action = useOperationAction();
  const [confirmClose, setConfirmClose] = useState(false);
  if (!can('trader')) return null;
  const busy = action.isPending;
  const run = (name: 'pause' | 'resume') => action.mutate({ id: operation.id, action: name });
  const failed = action.isError && action.variables?.action !== 'close';
  return (
    <Stack direction="row" spacing={1} useFlexGap sx={{ alignItems: 'center', flexWrap: 'wrap' }}>
      {failed && (
        <Alert severity="error" data-testid="op-action-error" sx={{ py: 0 }}>
          Could not {action.variables?.action}: {errorMessage(action.error)}
        </Alert>
      )}
      {operation.status === 'active' && (
        <Button data-testid="op-detail-pause" variant="outlined" color="warning" startIcon={<PauseIcon />}
          disabled={busy} onClick={() => run('pause')}>Pause</Button>
      )}
      {operation.status === 'paused' && (
        <Button data-testid="op-detail-resume" variant="outlined" color="success" startIcon={<PlayArrowIcon />}
          disabled={busy} onClick={() => run('resume')}>Resume</Button>
      )}
      {operation.status !== 'closed' && (
        <Button data-testid="op-detail-close" variant="outlined" color="error" startIcon={<StopIcon />}
          disabled={busy} onClick={() => setConfirmClose(true)}>Close</Button>
      )}
      <ConfirmDialog
        open={confirmClose}
        title="Close this operation?"
        danger
        confirmLabel="Close operation"
        message={`${operation.strategy_name} on ${operation.asset} stops trading: its open position is closed at market, `
          + 'then the operation is closed for good. Its history is kept.'}
        onConfirm={() => action.mutateAsync({ id: operation.id, action: 'close' })}
        onClose={() => setConfirmClose(false)}
      />
    </Stack>
  );
}

function Header({ operation }: { operation: Operation }) {
  return (
    <Box sx={{ display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: 2 }}>
      <Box sx={{ flexGrow: 1 }}>
        <Typography variant="caption" color="text.secondary">
          <RouterLink to="/operations" style={{ color: 'inherit' }}>Operations</RouterLink> / {operation.id}
        </Typography>
        <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
          <Typography variant="h5" component="h1">{operation.asset} · {operation.strategy_name}</Typography>
          <StatusChip status={operation.status} testId="op-detail-status" />
          <Chip size="small" label={operation.primary_bar_size} variant="outlined" />
        </Stack>
        {operation.status_reason && (
          <Typography variant="body2" color="text.secondary">{operation.status_reason}</Typography>
        )}
      </Box>
      <Actions operation={operation} />
    </Box>
  );
}

type ChartProps = {
  operationId: string;
  asset: string;
  primaryBarSize: string;
  createdAt: string;
  status: string;
  positions: Position[] | undefined;
  /** changes every few journal entries: when the chart refetches its bars */
  barsVersion: number;
};

/** Memoized on the few fields it needs: the operation document changes with every journal entry. */
const ChartSection = memo(function ChartSection({ operationId, asset, primaryBarSize, createdAt, status, positions, barsVersion }: ChartProps) {
  const operation = { id: operationId, asset, primary_bar_size: primaryBarSize, created_at: createdAt, status, barsVersion };
  const chart = useChartData(operation);
  const levels = useMemo(() => positionLevels(positions ?? [], operation.asset), [positions, operation.asset]);
  const open = chart.trades.filter((t) => t.closeDateTime === null).length;
  let notice = null;
  if (chart.error) {
    notice = <ErrorState error={chart.error} title="Could not load the chart" onRetry={chart.refetch} />;
  } else if (chart.loading) {
    notice = <Loading inline label="Loading bars and trades…" />;
  } else if (chart.bars.length === 0) {
    notice = (
      <Typography variant="body2" color="text.secondary" data-testid="op-chart-empty">
        No {operation.primary_bar_size} bars around this operation's trades yet.
      </Typography>
    );
  }
  return (
    <Section title={`${operation.asset} · ${operation.primary_bar_size}`} dense action={(
      <Typography variant="caption" color="text.secondary">
        {chart.trades.length} trade{chart.trades.length === 1 ? '' : 's'}{open ? ` (${open} open)` : ''} ·
        markers from the {chart.source} · stop-loss red, take-profit green dashed
      </Typography>
    )}>
      {notice && <Box sx={{ px: 2, pt: 1 }}>{notice}</Box>}
      <OperationChart bars={chart.bars} overlay={chart.overlay} asset={operation.asset} levels={levels} />
    </Section>
  );
});

function Detail({ operation }: { operation: Operation }) {
  const stats = useOperationStats(operation.id);
  const positions = usePositions(operation.id, { limit: 20, sort: 'desc' });
  const recentOrders = useOrders(operation.id, FIRST_ORDERS_PAGE);
  const inFlight = useMemo(() => ordersInFlight(recentOrders.data ?? []), [recentOrders.data]);
  return (
    <Stack spacing={2} data-testid="op-detail">
      <Header operation={operation} />
      <ChartSection operationId={operation.id} asset={operation.asset} primaryBarSize={operation.primary_bar_size}
        createdAt={operation.created_at} status={operation.status} positions={positions.data}
        barsVersion={barsVersion(operation.last_sequence_number)} />
      <Grid container spacing={2}>
        <Grid size={{ xs: 12, lg: 7 }}>
          <Section title="Open positions" dense>
            <PositionsTable query={positions} asset={operation.asset} inFlight={inFlight} />
          </Section>
        </Grid>
        <Grid size={{ xs: 12, lg: 5 }}>
          <Section title="Last recovery">
            <RecoveryReportPanel operationId={operation.id} />
          </Section>
        </Grid>
      </Grid>
      <Section title="Configuration and results">
        <OperationConfig operation={operation} stats={stats.data} />
      </Section>
      <Section title={`Trades (${operation.trade_count})`} dense>
        <TradesTable operationId={operation.id} asset={operation.asset} total={operation.trade_count} />
      </Section>
      <Section title="Journal (audit trail)" dense>
        <JournalTable operationId={operation.id} lastSequence={operation.last_sequence_number} />
      </Section>
      <Grid container spacing={2}>
        <Grid size={{ xs: 12, xl: 6 }}>
          <Section title="Orders" dense>
            <OrdersTable operationId={operation.id} asset={operation.asset} />
          </Section>
        </Grid>
        <Grid size={{ xs: 12, xl: 6 }}>
          <Section title="Transactions" dense>
            <TransactionsTable operationId={operation.id} asset={operation.asset} />
          </Section>
        </Grid>
      </Grid>
    </Stack>
  );
}

export default function OperationDetailPage() {
  const { id = '' } = useParams();
  const operation = useOperation(id);
  if (operation.isPending) return <Loading label="Loading the operation…" />;
  if (operation.isError && operation.data === undefined) {
    const missing = operation.error instanceof ApiError && operation.error.status === 404;
    return (
      <Box data-testid="op-detail-error">
        <ErrorState error={operation.error} title={missing ? 'No such operation' : 'Could not load the operation'}
          onRetry={missing ? undefined : () => void operation.refetch()} />
      </Box>
    );
  }
  return <Detail operation={operation.data as Operation} />;
}

