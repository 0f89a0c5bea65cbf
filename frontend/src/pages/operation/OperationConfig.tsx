/** An operation's configuration and results. */
import type { ReactNode } from 'react';
import { Box, Typography } from '@mui/material';
import type { Operation, OperationStats } from '../../api/models';
import { PnlText } from '../../components/PnlText';
import {
  formatDateTime, formatMoney, formatNumber, formatPercent, formatQuantity, quoteCurrency,
} from '../../format/format';

function Item({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <Box sx={{ display: 'flex', justifyContent: 'space-between', gap: 2, py: 0.25 }}>
      <Typography variant="body2" color="text.secondary">{label}</Typography>
      <Typography variant="body2" component="span" data-testid={testId} sx={{ textAlign: 'right', fontVariantNumeric: 'tabular-nums' }}>
        {children}
      </Typography>
    </Box>
  );
}

function Group({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Box sx={{ minWidth: 220, flex: '1 1 220px' }}>
      <Typography variant="overline" color="text.secondary">{title}</Typography>
      {children}
    </Box>
  );
}

/** `1.5 × ATR`, `2 % of the price`, `0.005 price distance`, `2 R`. */
export function protectionText(type: string, value: number): string {
  switch (type) {
    case 'ATR':
      return `${formatNumber(value, 2)} × ATR(14)`;
    case 'PERCENTAGE':
      return `${formatPercent(value)} of the price`;
    case 'FIXED':
      return `${value} price distance`;
    case 'RISK_REWARD':
      return `${formatNumber(value, 2)} R (× the stop distance)`;
    default:
      return `${type} ${value}`;
  }
}

export function OperationConfig({ operation, stats }: { operation: Operation; stats: OperationStats | undefined }) {
  const ccy = quoteCurrency(operation.asset);
  const params = Object.entries(operation.strategy_config);
  return (
    <Box data-testid="op-config" sx={{ display: 'flex', flexWrap: 'wrap', gap: 3 }}>
      <Group title="Market">
        <Item label="Asset">{operation.asset}</Item>
        <Item label="Bar sizes">{operation.bar_sizes.join(', ')}</Item>
        <Item label="Primary bar size">{operation.primary_bar_size}</Item>
        <Item label="Broker">{operation.broker}{operation.live_account ? ' (LIVE)' : ''}</Item>
        <Item label="Created">{formatDateTime(operation.created_at)}</Item>
        {operation.closed_at && <Item label="Closed">{formatDateTime(operation.closed_at)}</Item>}
      </Group>
      <Group title="Strategy">
        <Item label="Name">{operation.strategy_name}</Item>
        {params.map(([name, value]) => (
          <Item key={name} label={name} testId={`op-param-${name}`}>{String(value)}</Item>
        ))}
      </Group>
      <Group title="Risk">
        <Item label="Stop-loss">{protectionText(operation.stop_loss_type, operation.stop_loss_value)}</Item>
        <Item label="Take-profit">{protectionText(operation.take_profit_type, operation.take_profit_value)}</Item>
        <Item label="Quantity">{formatQuantity(operation.quantity)}</Item>
        <Item label="Max daily loss">{formatMoney(operation.max_daily_loss, ccy)}</Item>
        <Item label="Crash recovery">{operation.crash_recovery_mode}</Item>
        <Item label="Emergency stop">{formatPercent(operation.emergency_stop_loss_pct)}</Item>
        <Item label="Bars kept">{formatQuantity(operation.data_retention_bars)}</Item>
      </Group>
      <Group title="Results">
        <Item label="Realized P/L" testId="op-total-pnl"><PnlText value={operation.total_pnl} asset={operation.asset} /></Item>
        <Item label="Unrealized P/L"><PnlText value={stats?.unrealized_pnl} asset={operation.asset} /></Item>
        <Item label="Return">{formatPercent(operation.total_pnl_pct, 2, true)}</Item>
        <Item label="Capital">{formatMoney(operation.current_capital, ccy)} / {formatMoney(operation.initial_capital, ccy)}</Item>
        <Item label="Trades">{operation.trade_count}{stats ? ` (win rate ${formatPercent(stats.win_rate, 0)})` : ''}</Item>
        {stats && <Item label="Profit factor">{formatNumber(stats.profit_factor, 2)}</Item>}
        {stats && <Item label="Max drawdown">{formatMoney(stats.max_drawdown, ccy)}</Item>}
        <Item label="Commissions">{formatMoney(operation.total_commission, ccy)}</Item>
      </Group>
    </Box>
  );
}
