import { Link as RouterLink } from 'react-router';
import { Chip, Link, Table, TableBody, TableCell, TableHead, TableRow } from '@mui/material';
import type { Operation, Trade } from '../../api/models';
import { PnlText } from '../../components/PnlText';
import { EmptyState } from '../../components/states';
import { formatDateTime, formatPips, formatPrice, formatQuantity } from '../../format/format';

/** The latest trades across operations, newest first. */
export function RecentTradesTable({ trades, operations, limit = 10 }: {
  trades: Trade[];
  operations: Map<string, Operation>;
  limit?: number;
}) {
  const recent = [...trades].sort((a, b) => b.exit_time.localeCompare(a.exit_time)).slice(0, limit);
  if (recent.length === 0) return <EmptyState title="No trades yet" />;
  return (
    <Table>
      <TableHead>
        <TableRow>
          <TableCell>Closed</TableCell>
          <TableCell>Asset</TableCell>
          <TableCell>Side</TableCell>
          <TableCell align="right">Qty</TableCell>
          <TableCell align="right">Entry</TableCell>
          <TableCell align="right">Exit</TableCell>
          <TableCell align="right">Move</TableCell>
          <TableCell align="right">P/L</TableCell>
          <TableCell>Reason</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {recent.map((trade) => {
          const asset = operations.get(trade.operation_id)?.asset ?? '';
          const move = (trade.exit_price - trade.entry_price) * (trade.position_type === 'LONG' ? 1 : -1);
          return (
            <TableRow key={trade.id} hover data-testid={`dash-trade-${trade.id}`}>
              <TableCell>{formatDateTime(trade.exit_time)}</TableCell>
              <TableCell>
                <Link component={RouterLink} to={`/operations/${trade.operation_id}`} underline="hover">{asset || trade.operation_id.slice(-6)}</Link>
              </TableCell>
              <TableCell>
                <Chip size="small" variant="outlined" label={trade.position_type}
                  color={trade.position_type === 'LONG' ? 'success' : 'error'} />
              </TableCell>
              <TableCell align="right">{formatQuantity(trade.quantity)}</TableCell>
              <TableCell align="right">{formatPrice(trade.entry_price, asset)}</TableCell>
              <TableCell align="right">{formatPrice(trade.exit_price, asset)}</TableCell>
              <TableCell align="right">{formatPips(move, asset)}</TableCell>
              <TableCell align="right"><PnlText value={trade.pnl} asset={asset} /></TableCell>
              <TableCell>{trade.exit_reason ?? ''}</TableCell>
            </TableRow>
          );
        })}
      </TableBody>
    </Table>
  );
}
