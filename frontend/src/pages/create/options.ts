/** Choices of the create form (the backend's enums, `live_trading/domain`). */
import type { CrashRecoveryMode, StopLossType, TakeProfitType } from '../../api/models';

/** Bar sizes, as Interactive Brokers names them (the API also takes the codes). */
export const BAR_SIZES = ['1 min', '5 mins', '15 mins', '30 mins', '1 hour', '4 hours', '1 day'] as const;

export const STOP_LOSS_TYPES: readonly { value: StopLossType; label: string; hint: string }[] = [
  { value: 'ATR', label: 'ATR', hint: 'a multiple of ATR(14), e.g. 1.5' },
  { value: 'PERCENTAGE', label: 'Percentage', hint: 'a fraction of the entry price, e.g. 0.01 = 1 %' },
  { value: 'FIXED', label: 'Fixed', hint: 'a price distance, e.g. 0.0050' },
];

export const TAKE_PROFIT_TYPES: readonly { value: TakeProfitType; label: string; hint: string }[] = [
  ...STOP_LOSS_TYPES,
  { value: 'RISK_REWARD', label: 'Risk / reward', hint: 'a multiple of the stop distance, e.g. 2' },
];

export const CRASH_RECOVERY_MODES: readonly { value: CrashRecoveryMode; label: string }[] = [
  { value: 'CLOSE_ALL', label: 'Close all — flatten at restart' },
  { value: 'RESUME', label: 'Resume — keep the position (emergency stop applies)' },
  { value: 'EMERGENCY_EXIT', label: 'Emergency exit — close only beyond the emergency loss' },
];
