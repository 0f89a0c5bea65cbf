import { Box } from '@mui/material';
import { formatPnl, pnlColor } from '../format/format';

/** A P/L amount, signed and coloured (green gain, red loss), in the asset's quote currency. */
export function PnlText({ value, asset, testId }: { value: number | null | undefined; asset?: string; testId?: string }) {
  return (
    <Box component="span" data-testid={testId} sx={{ color: pnlColor(value), fontVariantNumeric: 'tabular-nums' }}>
      {formatPnl(value, asset)}
    </Box>
  );
}
