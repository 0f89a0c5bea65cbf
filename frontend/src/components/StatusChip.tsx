import { Chip, type ChipProps } from '@mui/material';

const COLORS: Record<string, ChipProps['color']> = {
  active: 'success',
  paused: 'warning',
  closed: 'default',
  error: 'error',
};

/** An operation's status as a small coloured chip. */
export function StatusChip({ status, testId }: { status: string; testId?: string }) {
  return (
    <Chip size="small" variant="outlined" label={status} color={COLORS[status] ?? 'default'}
      data-testid={testId} sx={{ fontWeight: 600 }} />
  );
}
