import { Link as RouterLink } from 'react-router';
import { Link, Table, TableBody, TableCell, TableHead, TableRow } from '@mui/material';
import type { Operation } from '../../api/models';
import { PnlText } from '../../components/PnlText';
import { StatusChip } from '../../components/StatusChip';
import { EmptyState } from '../../components/states';
import { formatQuantity } from '../../format/format';

/** Operations that are not closed (active, paused, error), each linking to its page. */
export function ActiveOperationsTable({ operations }: { operations: Operation[] }) {
  if (operations.length === 0) {
    return <EmptyState title="No running operations">Create one from “New operation”.</EmptyState>;
  }
  return (
    <Table>
      <TableHead>
        <TableRow>
          <TableCell>Asset</TableCell>
          <TableCell>Strategy</TableCell>
          <TableCell>Bars</TableCell>
          <TableCell>Status</TableCell>
          <TableCell align="right">Trades</TableCell>
          <TableCell align="right">Realized P/L</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {operations.map((op) => (
          <TableRow key={op.id} hover data-testid={`dash-op-${op.id}`}>
            <TableCell>
              <Link component={RouterLink} to={`/operations/${op.id}`} underline="hover">{op.asset}</Link>
            </TableCell>
            <TableCell>{op.strategy_name}</TableCell>
            <TableCell>{op.primary_bar_size}</TableCell>
            <TableCell><StatusChip status={op.status} /></TableCell>
            <TableCell align="right">{formatQuantity(op.trade_count)}</TableCell>
            <TableCell align="right"><PnlText value={op.total_pnl} asset={op.asset} /></TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
