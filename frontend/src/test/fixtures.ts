/** Documents shaped like the backend's answers, for tests. */
import type { Operation, Trade } from '../api/models';

export function makeOperation(id: string, patch: Partial<Operation> = {}): Operation {
  return {
    id, asset: 'USD-CAD', bar_sizes: ['1 hour'], primary_bar_size: '1 hour', strategy_name: 'MomentumStrategy',
    strategy_config: { fast_period: 10, slow_period: 30 }, status: 'active', status_reason: null,
    stop_loss_type: 'ATR', stop_loss_value: 1.5, take_profit_type: 'RISK_REWARD', take_profit_value: 2,
    crash_recovery_mode: 'CLOSE_ALL', emergency_stop_loss_pct: 0.05, data_retention_bars: 1000, quantity: 10000,
    max_daily_loss: 500, broker: 'PAPER', live_account: false, created_at: '2025-01-20T12:00:00Z',
    updated_at: '2025-01-20T12:00:00Z', closed_at: null, initial_capital: 100000, current_capital: 99712.56,
    total_pnl: -287.44, total_pnl_pct: -0.0028744, total_commission: 27.57, trade_count: 48, last_sequence_number: 10,
    ...patch,
  };
}

export function makeTrade(id: string, patch: Partial<Trade> = {}): Trade {
  return {
    id, operation_id: 'op1', position_id: `p${id}`, position_type: 'SHORT', entry_transaction_id: 'e',
    exit_transaction_id: 'x', entry_price: 1.42952852, exit_price: 1.43381771, quantity: 10000, gross_pnl: -42.89,
    pnl: -43.46, pnl_pct: -0.003, total_commission: 0.57, entry_time: '2025-01-20T15:00:00Z',
    exit_time: '2025-01-20T18:00:00Z', duration_seconds: 10800, exit_reason: 'STOP_LOSS', ...patch,
  };
}
