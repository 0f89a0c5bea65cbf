/** The last start-up recovery report (`GET /api/recovery/last`), as it concerns this operation. */
import { memo } from 'react';
import { Box, Table, TableBody, TableCell, TableRow, Typography } from '@mui/material';
import { useRecoveryReport } from '../../api/hooks';
import { ApiError } from '../../api/errors';
import { EmptyState, ErrorState, Loading } from '../../components/states';
import { formatDateTime } from '../../format/format';

type Row = [string, string];

function show(value: unknown): string {
  if (value === null || value === undefined) return '–';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map((v) => show(v)).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The lines shown for this operation's part of a report. */
export function recoveryRows(entry: Record<string, unknown>): Row[] {
  const rows: Row[] = [
    ['Status after recovery', show(entry.status)],
    ['Recovery mode', show(entry.mode)],
    ['Journal replayed to', `#${show(entry.last_sequence)}`],
    ['Orders in flight', show((entry.in_flight as unknown[] | undefined)?.length ?? 0)],
    ['Fills adopted', show(entry.fills_to_adopt)],
    ['Orders adopted', show(entry.orders_to_adopt)],
    ['Orders cancelled in the journal', show(entry.orders_to_cancel)],
    ['Stray broker orders cancelled', show(entry.broker_orders_to_cancel)],
    ['Position: journal / broker', `${show(entry.journal_position)} / ${show(entry.broker_position)}`],
  ];
  const positions = Array.isArray(entry.positions) ? (entry.positions as Record<string, unknown>[]) : [];
  for (const p of positions) {
    rows.push(['Position decision', `${show(p.side)} ${show(p.quantity)}: ${show(p.action)} (${show(p.reason)})`]);
  }
  if ('resumed' in entry) rows.push(['Resumed', show(entry.resumed)]);
  return rows;
}

export const RecoveryReportPanel = memo(function RecoveryReportPanel({ operationId }: { operationId: string }) {
  const query = useRecoveryReport();
  let body;
  if (query.isPending) body = <Loading inline label="Loading the recovery report…" />;
  else if (query.error instanceof ApiError && query.error.status === 404) {
    body = <EmptyState title="No recovery has run yet" />;
  } else if (query.isError) {
    body = <ErrorState error={query.error} onRetry={() => void query.refetch()} />;
  } else {
    const report = query.data;
    const entry = report.operations.find((o) => o.operation_id === operationId);
    body = (
      <>
        <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
          Last recovery {formatDateTime(report.started_at, { seconds: true })}
          {report.finished_at ? ` – ${formatDateTime(report.finished_at, { seconds: true })}` : ''}:{' '}
          {report.operations.length} open operation{report.operations.length === 1 ? '' : 's'} recovered.
        </Typography>
        {entry ? (
          <Table size="small">
            <TableBody>
              {recoveryRows(entry).map(([label, value]) => (
                <TableRow key={label}>
                  <TableCell component="th" sx={{ color: 'text.secondary', width: '45%' }}>{label}</TableCell>
                  <TableCell>{value}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        ) : (
          <Typography variant="body2">This operation was not part of it (it started later, or was closed).</Typography>
        )}
      </>
    );
  }
  return <Box data-testid="recovery-report">{body}</Box>;
});
