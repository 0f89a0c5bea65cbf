/**
 * Response shapes of the backend. The OpenAPI schema types every request
 * (see `schema.d.ts`) but answers most calls with a free-form object, so the
 * answers are typed here from the serializers (`live_trading/api/serialize.py`,
 * the read-model documents, `docs/live-feed.md`). Ids are hex strings, times
 * ISO-8601 UTC, prices in the quote currency, quantities in base-asset units.
 */
import type { components } from './schema';

type Schemas = components['schemas'];

export type Role = Schemas['Role'];
export type StopLossType = Schemas['StopLossType'];
export type TakeProfitType = Schemas['TakeProfitType'];
export type CrashRecoveryMode = Schemas['CrashRecoveryMode'];
export type BrokerType = Schemas['BrokerType'];
export type OperationCreate = Schemas['OperationCreate'];
export type OperationUpdate = Schemas['OperationUpdate'];
export type BrokerConfigCreate = Schemas['BrokerConfigCreate'];
export type BrokerConfigUpdate = Schemas['BrokerConfigUpdate'];

export type OperationStatus = 'active' | 'paused' | 'closed' | 'error';
export const OPERATION_STATUSES: readonly OperationStatus[] = ['active', 'paused', 'closed', 'error'];

export type Operation = {
  id: string;
  asset: string;
  bar_sizes: string[];
  primary_bar_size: string;
  strategy_name: string;
  strategy_config: Record<string, unknown>;
  status: OperationStatus;
  status_reason: string | null;
  stop_loss_type: StopLossType;
  stop_loss_value: number;
  take_profit_type: TakeProfitType;
  take_profit_value: number;
  crash_recovery_mode: CrashRecoveryMode;
  emergency_stop_loss_pct: number;
  data_retention_bars: number;
  quantity: number;
  max_daily_loss: number;
  broker: string;
  live_account: boolean;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  initial_capital: number;
  current_capital: number;
  total_pnl: number;
  total_pnl_pct: number;
  total_commission: number;
  trade_count: number;
  last_sequence_number: number;
};

export type PositionType = 'LONG' | 'SHORT';

export type Position = {
  id: string;
  operation_id: string;
  contract_symbol: string;
  position_type: PositionType;
  status: 'OPEN' | 'CLOSED';
  /** positive long, negative short, 0 once closed */
  quantity: number;
  entry_price: number;
  current_price: number | null;
  unrealized_pnl: number;
  unrealized_pnl_pct: number;
  realized_pnl: number;
  stop_loss: number | null;
  take_profit: number | null;
  opened_at: string;
  closed_at: string | null;
};

export type Trade = {
  id: string;
  operation_id: string;
  position_id: string;
  position_type: PositionType;
  entry_transaction_id: string;
  exit_transaction_id: string;
  entry_price: number;
  exit_price: number;
  quantity: number;
  gross_pnl: number;
  /** net of commissions, quote currency */
  pnl: number;
  pnl_pct: number;
  total_commission: number;
  entry_time: string;
  exit_time: string;
  duration_seconds: number;
  exit_reason: string | null;
};

export type Order = {
  id: string;
  operation_id: string;
  client_order_id: string;
  broker_order_id: string | null;
  order_role: string;
  order_type: string;
  action: 'BUY' | 'SELL';
  quantity: number;
  price: number | null;
  stop_loss: number | null;
  take_profit: number | null;
  parent_order_id: string | null;
  status: string;
  filled_quantity: number;
  avg_fill_price: number | null;
  commission: number;
  reason: string | null;
  placed_at: string;
  filled_at: string | null;
  cancelled_at: string | null;
};

export type Transaction = {
  id: string;
  operation_id: string;
  transaction_type: 'BUY' | 'SELL';
  transaction_role: 'ENTRY' | 'EXIT';
  position_type: PositionType;
  order_id: string | null;
  execution_id: string | null;
  price: number;
  quantity: number;
  commission: number;
  executed_at: string;
  profit: number;
  profit_pct: number;
  related_entry_transaction_id: string | null;
  position_id: string | null;
  notes: string | null;
};

/** Journal sources: `engine`, `worker`, `api/manual`, `recovery`, `cli/...`. */
export type JournalEntry = {
  id: string;
  operation_id: string;
  sequence_number: number;
  action_type: string;
  action_data: Record<string, unknown>;
  timestamp: string;
  source: string;
  user: string | null;
  event_id: string;
};

export type TradeStats = {
  trade_count: number;
  winning_trades: number;
  losing_trades: number;
  win_rate: number;
  total_pnl: number;
  gross_profit: number;
  gross_loss: number;
  profit_factor: number | null;
  average_win: number;
  average_loss: number;
  largest_win: number;
  largest_loss: number;
  max_drawdown: number;
  total_commission: number;
};

export type OverallStats = TradeStats & {
  realized_pnl: number;
  unrealized_pnl: number;
  operations: number;
  operations_by_status: Partial<Record<OperationStatus, number>>;
};

export type OperationStats = TradeStats & {
  operation_id: string;
  status: OperationStatus;
  asset: string;
  unrealized_pnl: number;
  open_positions: number;
  initial_capital: number;
  current_capital: number;
  total_pnl_pct: number;
};

export type Mode = {
  mode: 'trading' | 'simulation';
  broker: string;
  caption: string;
};

export type WorkerStatus = {
  running: boolean;
  enabled: boolean;
  interval_seconds: number;
  cycles: number;
  last_cycle_at: string | null;
  next_run_at: string | null;
  last_result: Record<string, unknown> | null;
};

/** `GET /health`, answered with 200 or 503 (the same body). */
export type Health = {
  status: string;
  problems: string[];
  mode: string;
  store: { ok: boolean; embedded?: boolean; error?: string };
  broker: { name: string; state: string; ok: boolean };
  worker: WorkerStatus;
  engine: { runners: number; running: number; bars_processed: number };
};

export type Me = { username: string; role: Role };
export type TokenResponse = { access_token: string; token_type: string; role: Role; expires_in: number };

export type BrokerConfig = {
  id: string;
  broker_name: BrokerType;
  account_type: 'PAPER' | 'LIVE';
  host: string | null;
  port: number | null;
  client_id: number | null;
  account_id: string | null;
  is_active: boolean;
  config: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  /** the key itself is write-only and never returned */
  api_key_set: boolean;
};

/** A JSON schema of a strategy's parameters (pydantic's). */
export type ParamSchema = {
  type?: string;
  title?: string;
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  enum?: unknown[];
  anyOf?: ParamSchema[];
};

export type StrategyInfo = {
  name: string;
  description: string;
  params_schema: {
    title?: string;
    description?: string;
    properties: Record<string, ParamSchema>;
    required?: string[];
  };
  defaults: Record<string, unknown>;
  higher_bar_sizes: string[];
};

export type KillSwitchResult = { operations: string[]; count: number };

export type RecoveryReport = {
  started_at: string;
  finished_at?: string;
  dry_run: boolean;
  archived_entries?: number;
  operations: Record<string, unknown>[];
};

export type ChartMarker = {
  time: number;
  position: 'aboveBar' | 'belowBar' | 'inBar';
  shape: 'arrowUp' | 'arrowDown' | 'circle' | 'square';
  color: string;
  text: string;
};

export type StopSegment = { startTime: number; endTime: number; price: number };

export type TradeLogTrade = {
  tradeId: string;
  operationId: string;
  side: PositionType;
  quantity: number;
  entryDateTime: string;
  entryPrice: number;
  initialStopPrice: number | null;
  targetPrice: number | null;
  closeDateTime: string | null;
  closePrice: number | null;
  closeReason: string | null;
  points: number | null;
  pnl: number | null;
  snapshotFile?: string;
  context?: string;
  markers: ChartMarker[];
  stopSegments: StopSegment[];
};

export type TradeLog = { mode: string; symbol: string; interval: string; trades: TradeLogTrade[] };

export type Bar = { time: string; open: number; high: number; low: number; close: number; volume?: number };
