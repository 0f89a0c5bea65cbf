import { Box, TextField } from '@mui/material';
import { OPERATION_STATUSES } from '../../api/models';

export type Filters = { status: string; asset: string; strategy_name: string };

type Props = {
  value: Filters;
  onChange: (next: Filters) => void;
  assets: string[];
  strategies: string[];
};

function NativeFilter({ label, testId, value, options, onChange }: {
  label: string;
  testId: string;
  value: string;
  options: string[];
  onChange: (value: string) => void;
}) {
  return (
    <TextField select label={label} value={value} onChange={(e) => onChange(e.target.value)}
      sx={{ minWidth: 170 }}
      slotProps={{ select: { native: true }, htmlInput: { 'data-testid': testId }, inputLabel: { shrink: true } }}>
      <option value="">All</option>
      {options.map((o) => <option key={o} value={o}>{o}</option>)}
    </TextField>
  );
}

/** Status, asset and strategy filters (native selects, so they work with any browser automation). */
export function OperationFilters({ value, onChange, assets, strategies }: Props) {
  const withCurrent = (options: string[], current: string) =>
    current && !options.includes(current) ? [...options, current] : options;
  return (
    <Box sx={{ display: 'flex', gap: 1.5, flexWrap: 'wrap' }}>
      <NativeFilter label="Status" testId="filter-status" value={value.status} options={[...OPERATION_STATUSES]}
        onChange={(status) => onChange({ ...value, status })} />
      <NativeFilter label="Asset" testId="filter-asset" value={value.asset} options={withCurrent(assets, value.asset)}
        onChange={(asset) => onChange({ ...value, asset })} />
      <NativeFilter label="Strategy" testId="filter-strategy" value={value.strategy_name}
        options={withCurrent(strategies, value.strategy_name)}
        onChange={(strategy_name) => onChange({ ...value, strategy_name })} />
    </Box>
  );
}

