/**
 * Names for the backend's request and response shapes. Every shape is
 * generated from the OpenAPI schema (`schema.d.ts`, from `openapi.json`:
 * `npm run dump:api && npm run gen:api`); this file only gives them short
 * names and holds no copy. The response models live in
 * `live_trading/api/schemas/`. Ids are hex strings, times ISO-8601 UTC,
 * prices in the quote currency, quantities in base-asset units.
 */
import type { components } from './schema';

type Schemas = components['schemas'];

// requests and enums
export type Role = Schemas['Role'];
export type StopLossType = Schemas['StopLossType'];
export type TakeProfitType = Schemas['TakeProfitType'];
export type CrashRecoveryMode = Schemas['CrashRecoveryMode'];
export type BrokerType = Schemas['BrokerType'];
export type OperationCreate = Schemas['OperationCreate'];
export type OperationUpdate = Schemas['OperationUpdate'];
export type BrokerConfigCreate = Schemas['BrokerConfigCreate'];
export type BrokerConfigUpdate = Schemas['BrokerConfigUpdate'];

// read models
export type Operation = Schemas['TradingOperationOut'];
export type Position = Schemas['PositionOut'];
export type Trade = Schemas['TradeOut'];
export type Order = Schemas['OrderOut'];
export type Transaction = Schemas['TransactionOut'];
/** Journal sources: `engine`, `worker`, `api/manual`, `recovery`, `cli/...`. */
export type JournalEntry = Schemas['JournalEntryOut'];
export type Bar = Schemas['BarOut'];

// statistics and the service
export type OverallStats = Schemas['OverallStatsOut'];
export type OperationStats = Schemas['OperationStatsOut'];
export type Mode = Schemas['ModeOut'];
export type WorkerStatus = Schemas['WorkerStatusOut'];
/** `GET /health`, answered with 200 or 503 (the same body). */
export type Health = Schemas['HealthOut'];
export type Me = Schemas['MeOut'];
export type TokenResponse = Schemas['TokenOut'];
export type User = Schemas['UserOut'];
/** The key itself is write-only and never returned (`api_key_set`). */
export type BrokerConfig = Schemas['BrokerConfigOut'];
export type KillSwitchResult = Schemas['KillSwitchOut'];
/** The kill-switch run in progress, or the last one since the engine started. */
export type KillSwitchProgress = Schemas['KillSwitchProgressOut'];
export type RecoveryReport = Schemas['RecoveryReportOut'];
export type CycleResult = Schemas['CycleOut'];
export type PositionClosing = Schemas['PositionClosingOut'];

// strategies
/** A JSON schema of one strategy parameter (pydantic's). */
export type ParamSchema = Schemas['ParamSchemaOut'];
export type StrategyInfo = Schemas['StrategyOut'];

// the trade log
export type ChartMarker = Schemas['ChartMarkerOut'];
export type StopSegment = Schemas['StopSegmentOut'];
export type TradeLogTrade = Schemas['TradeLogTradeOut'];
export type TradeLog = Schemas['TradeLogOut'];

// the fixed sets of the read models
export type OperationStatus = Schemas['OperationStatus'];
export type OrderRole = Schemas['OrderRole'];
export type OrderStatus = Schemas['OrderStatus'];
export type OrderType = Schemas['OrderType'];
export type Side = Schemas['Side'];
/** The sides a position takes (`position_type` of positions, trades, transactions). */
export type PositionType = Schemas['PositionSide'];
export type PositionStatus = Schemas['PositionStatus'];

/** The statuses the operations filter offers. */
export const OPERATION_STATUSES: readonly OperationStatus[] = ['active', 'paused', 'closed', 'error'];
