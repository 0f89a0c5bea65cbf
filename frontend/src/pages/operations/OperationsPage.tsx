import { useMemo, useState } from 'react';
import { Link as RouterLink, useNavigate, useSearchParams } from 'react-router';
import {
  Alert, Box, Button, Link, Paper, Table, TableBody, TableCell, TableContainer, TableHead, TableRow, Typography,
} from '@mui/material';
import AddIcon from '@mui/icons-material/Add';
import { useOperations, useStrategies } from '../../api/hooks';
import type { Operation } from '../../api/models';
import { errorMessage } from '../../api/errors';
import { useAuth } from '../../auth/useAuth';
import { PnlText } from '../../components/PnlText';
import { StatusChip } from '../../components/StatusChip';
import { EmptyState, QueryView } from '../../components/states';
import { formatDateTime, formatPercent, formatQuantity } from '../../format/format';
import { OperationActions } from './OperationActions';
import { OperationFilters, type Filters } from './OperationFilters';

const FILTER_KEYS = ['status', 'asset', 'strategy_name'] as const;

function OperationRow({ operation, canTrade, onError }: { operation: Operation; canTrade: boolean; onError: (e: unknown) => void }) {
  const navigate = useNavigate();
  const { id } = operation;
  return (
    <TableRow hover data-testid={`op-row-${id}`} sx={{ cursor: 'pointer' }} onClick={() => navigate(`/operations/${id}`)}>
      <TableCell>
        <Link component={RouterLink} to={`/operations/${id}`} underline="hover" onClick={(e) => e.stopPropagation()}>
          {operation.asset}
        </Link>
      </TableCell>
      <TableCell>{operation.strategy_name}</TableCell>
      <TableCell>{operation.bar_sizes.join(', ')}</TableCell>
      <TableCell>
        <StatusChip status={operation.status} testId={`op-status-${id}`} />
      </TableCell>
      <TableCell align="right">{formatQuantity(operation.quantity)}</TableCell>
      <TableCell align="right">{formatQuantity(operation.trade_count)}</TableCell>
      <TableCell align="right"><PnlText value={operation.total_pnl} asset={operation.asset} testId={`op-pnl-${id}`} /></TableCell>
      <TableCell align="right">{formatPercent(operation.total_pnl_pct, 2, true)}</TableCell>
      <TableCell>{formatDateTime(operation.created_at)}</TableCell>
      <TableCell align="right">{canTrade && <OperationActions operation={operation} onError={onError} />}</TableCell>
    </TableRow>
  );
}

/** Every operation with status, asset, strategy and P/L; server-side filters; quick actions. */
export function OperationsPage() {
  const [params, setParams] = useSearchParams();
  const filters: Filters = {
    status: params.get('status') ?? '',
    asset: params.get('asset') ?? '',
    strategy_name: params.get('strategy_name') ?? '',
  };
  const operations = useOperations({ ...filters, limit: 1000 });
  const all = useOperations({ limit: 1000 });
  const strategies = useStrategies();
  const { can } = useAuth();
  const canTrade = can('trader');
  const [actionError, setActionError] = useState<string | null>(null);

  const assets = useMemo(() => [...new Set((all.data ?? []).map((o) => o.asset))].sort(), [all.data]);
  const strategyNames = useMemo(() => {
    const names = new Set([...(strategies.data ?? []).map((s) => s.name), ...(all.data ?? []).map((o) => o.strategy_name)]);
    return [...names].sort();
  }, [strategies.data, all.data]);

  const setFilters = (next: Filters) => {
    const search = new URLSearchParams();
    for (const key of FILTER_KEYS) if (next[key]) search.set(key, next[key]);
    setParams(search, { replace: true });
  };
  const filtered = FILTER_KEYS.some((k) => filters[k]);

  return (
    <Box>
      <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, mb: 2, flexWrap: 'wrap' }}>
        <Typography variant="h5" component="h1" sx={{ flexGrow: 1 }}>Operations</Typography>
        <OperationFilters value={filters} onChange={setFilters} assets={assets} strategies={strategyNames} />
        {canTrade && (
          <Button variant="contained" startIcon={<AddIcon />} component={RouterLink} to="/operations/new">
            New operation
          </Button>
        )}
      </Box>
      {actionError && (
        <Alert severity="error" sx={{ mb: 1 }} data-testid="action-error" onClose={() => setActionError(null)}>{actionError}</Alert>
      )}
      <Paper>
        <QueryView query={operations}>
          {(data) => (
            <TableContainer>
              <Table data-testid="operations-table" stickyHeader>
                <TableHead>
                  <TableRow>
                    <TableCell>Asset</TableCell>
                    <TableCell>Strategy</TableCell>
                    <TableCell>Bar sizes</TableCell>
                    <TableCell>Status</TableCell>
                    <TableCell align="right">Quantity</TableCell>
                    <TableCell align="right">Trades</TableCell>
                    <TableCell align="right">Realized P/L</TableCell>
                    <TableCell align="right">Return</TableCell>
                    <TableCell>Created</TableCell>
                    <TableCell align="right">{canTrade ? 'Actions' : ''}</TableCell>
                  </TableRow>
                </TableHead>
                <TableBody>
                  {data.map((op) => (
                    <OperationRow key={op.id} operation={op} canTrade={canTrade}
                      onError={(e) => setActionError(errorMessage(e))} />
                  ))}
                  {data.length === 0 && (
                    <TableRow>
                      <TableCell colSpan={10}>
                        <EmptyState title={filtered ? 'No operation matches these filters' : 'No operations yet'}>
                          {filtered
                            ? <Button onClick={() => setFilters({ status: '', asset: '', strategy_name: '' })}>Clear filters</Button>
                            : canTrade && <Button component={RouterLink} to="/operations/new">Create the first one</Button>}
                        </EmptyState>
                      </TableCell>
                    </TableRow>
                  )}
                </TableBody>
              </Table>
            </TableContainer>
          )}
        </QueryView>
      </Paper>
    </Box>
  );
}
