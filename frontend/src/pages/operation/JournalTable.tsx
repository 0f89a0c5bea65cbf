/**
 * The operation's journal as an audit trail, newest first: what happened,
 * who did it (the source: "Auto (worker)", "Manual (console)", "Engine",
 * "Recovery", or the raw source) and the user of manual entries.
 */
import { memo, useState } from 'react';
import {
  Box, Chip, Table, TableBody, TableCell, TableContainer, TableHead, TablePagination, TableRow, Typography,
} from '@mui/material';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, call } from '../../api/client';
import type { JournalEntry } from '../../api/models';
import { queryKeys } from '../../api/queryKeys';
import { EmptyState, QueryView } from '../../components/states';
import { formatDateTime, sourceLabel } from '../../format/format';
import { journalPage, summarizeEntry } from './journalView';

const SOURCE_COLORS: Record<string, 'default' | 'primary' | 'secondary' | 'warning' | 'info'> = {
  worker: 'info',
  'api/manual': 'warning',
  engine: 'default',
  recovery: 'secondary',
};

function SourceCell({ entry }: { entry: JournalEntry }) {
  return (
    <Chip size="small" variant="outlined" color={SOURCE_COLORS[entry.source] ?? 'primary'}
      label={sourceLabel(entry.source)} />
  );
}

/** One entry; entries never change, so a row renders once. */
const JournalRow = memo(function JournalRow({ entry }: { entry: JournalEntry }) {
  const seq = entry.sequence_number;
  return (
    <TableRow data-testid={`journal-row-${seq}`} hover>
      <TableCell align="right">{seq}</TableCell>
      <TableCell sx={{ whiteSpace: 'nowrap' }}>{formatDateTime(entry.timestamp, { seconds: true })}</TableCell>
      <TableCell sx={{ fontFamily: 'monospace', fontSize: 12 }}>{entry.action_type}</TableCell>
      <TableCell data-testid={`journal-source-${seq}`}><SourceCell entry={entry} /></TableCell>
      <TableCell data-testid={`journal-user-${seq}`}>{entry.user ?? '–'}</TableCell>
      <TableCell sx={{ maxWidth: 520 }}>
        <Typography variant="body2" noWrap title={JSON.stringify(entry.action_data, null, 2)}>
          {summarizeEntry(entry)}
        </Typography>
      </TableCell>
    </TableRow>
  );
}, (a, b) => a.entry.id === b.entry.id);

export const JournalTable = memo(function JournalTable({ operationId, lastSequence }: { operationId: string; lastSequence: number }) {
  const [page, setPage] = useState(0);
  const [pageSize, setPageSize] = useState(50);
  const slice = journalPage(lastSequence, page, pageSize);
  const params = { after_sequence: slice.afterSequence, limit: slice.limit };
  const query = useQuery({
    queryKey: queryKeys.journal(operationId, params),
    queryFn: () => call<JournalEntry[]>(api.GET('/api/operations/{operation_id}/journal',
      { params: { path: { operation_id: operationId }, query: params } })),
    placeholderData: keepPreviousData,
  });

  return (
    <Box data-testid="journal-table">
      <QueryView query={query} isEmpty={(rows) => rows.length === 0} empty={<EmptyState title="No journal entry" />}>
        {(entries) => {
          const rows = [...entries].sort((a, b) => b.sequence_number - a.sequence_number).slice(0, pageSize);
          const newest = Math.max(lastSequence, entries.reduce((m, e) => Math.max(m, e.sequence_number), 0));
          return (
            <>
              <TableContainer>
                <Table size="small">
                  <TableHead>
                    <TableRow>
                      <TableCell align="right">#</TableCell>
                      <TableCell>Time</TableCell>
                      <TableCell>Action</TableCell>
                      <TableCell>Source</TableCell>
                      <TableCell>User</TableCell>
                      <TableCell>Details</TableCell>
                    </TableRow>
                  </TableHead>
                  <TableBody>
                    {rows.map((entry) => <JournalRow key={entry.sequence_number} entry={entry} />)}
                  </TableBody>
                </Table>
              </TableContainer>
              <TablePagination component="div" count={newest} page={page} rowsPerPage={pageSize}
                rowsPerPageOptions={[25, 50, 100, 250]} onPageChange={(_, next) => setPage(next)}
                onRowsPerPageChange={(e) => { setPageSize(Number(e.target.value)); setPage(0); }} />
            </>
          );
        }}
      </QueryView>
    </Box>
  );
});
