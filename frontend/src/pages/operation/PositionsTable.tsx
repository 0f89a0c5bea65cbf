/** The operation's open positions, marked to the last price, each with a close button (trader). */
import { useState } from 'react';
import { Box, Button, Chip, Table, TableBody, TableCell, TableContainer, TableHead, TableRow } from '@mui/material';
import type { UseQueryResult } from '@tanstack/react-query';
import { useClosePosition } from '../../api/hooks';
import type { Order, Position } from '../../api/models';
import { useAuth } from '../../auth/useAuth';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { PnlText } from '../../components/PnlText';
import { EmptyState, QueryView } from '../../components/states';
import { formatDateTime, formatPercent, formatPips, formatPrice, formatQuantity } from '../../format/format';

/**
 * Market entry / exit orders still working: a position being reversed or
 * closed by one of them must not be closed again (a second exit would open
 * the opposite position). Protective stops and limits work all along and
 * do not count.
 */
export function ordersInFlight(orders: readonly Order[]): Order[] {
  return orders.filter((o) => (o.order_role === 'ENTRY' || o.order_role === 'EXIT') && o.order_type === 'MARKET'
    && (o.status === 'PENDING' || o.status === 'SUBMITTED'));
}

/** Open positions only, newest first. */
export function openPositions(positions: readonly Position[]): Position[] {
  return positions.filter((p) => p.status === 'OPEN').sort((a, b) => b.opened_at.localeCompare(a.opened_at));
}

export function PositionsTable({ query, asset, inFlight }: {
  query: UseQueryResult<Position[]>;
  asset: string;
  /** market orders still working (see ordersInFlight): closing waits for them */
  inFlight: readonly Order[];
}) {
  const { can } = useAuth();
  const trader = can('trader');
  const close = useClosePosition();
  const [asking, setAsking] = useState<Position | null>(null);
  const [closing, setClosing] = useState<ReadonlySet<string>>(new Set());

  return (
    <Box data-testid="positions-table">
      <QueryView query={query} isEmpty={(rows) => openPositions(rows).length === 0}
        empty={<EmptyState title="No open position" />}>
        {(rows) => (
          <TableContainer>
            <Table size="small">
              <TableHead>
                <TableRow>
                  <TableCell>Side</TableCell>
                  <TableCell align="right">Quantity</TableCell>
                  <TableCell align="right">Entry</TableCell>
                  <TableCell align="right">Last</TableCell>
                  <TableCell align="right">Stop-loss</TableCell>
                  <TableCell align="right">Take-profit</TableCell>
                  <TableCell align="right">Unrealized P/L</TableCell>
                  <TableCell>Opened</TableCell>
                  {trader && <TableCell align="right" />}
                </TableRow>
              </TableHead>
              <TableBody>
                {openPositions(rows).map((p) => {
                  const move = p.current_price === null ? null
                    : (p.current_price - p.entry_price) * (p.position_type === 'LONG' ? 1 : -1);
                  const pending = closing.has(p.id);
                  const busy = pending || inFlight.length > 0;
                  return (
                    <TableRow key={p.id} data-testid={`position-row-${p.id}`}>
                      <TableCell>
                        <Chip size="small" variant="outlined" label={p.position_type}
                          color={p.position_type === 'LONG' ? 'success' : 'error'} />
                      </TableCell>
                      <TableCell align="right">{formatQuantity(Math.abs(p.quantity))}</TableCell>
                      <TableCell align="right">{formatPrice(p.entry_price, asset)}</TableCell>
                      <TableCell align="right">{formatPrice(p.current_price, asset)}</TableCell>
                      <TableCell align="right">{formatPrice(p.stop_loss, asset)}</TableCell>
                      <TableCell align="right">{formatPrice(p.take_profit, asset)}</TableCell>
                      <TableCell align="right" data-testid={`position-pnl-${p.id}`}>
                        <PnlText value={p.unrealized_pnl} asset={asset} />
                        <Box component="span" sx={{ color: 'text.secondary', ml: 1, fontSize: 12 }}>
                          {formatPips(move, asset)} · {formatPercent(p.unrealized_pnl_pct, 2, true)}
                        </Box>
                      </TableCell>
                      <TableCell>{formatDateTime(p.opened_at)}</TableCell>
                      {trader && (
                        <TableCell align="right">
                          <Button size="small" color="error" variant="outlined" data-testid={`position-close-${p.id}`}
                            disabled={busy} onClick={() => setAsking(p)}
                            title={busy && !pending ? `${inFlight.map((o) => `${o.order_role} ${o.action}`).join(', ')} order in flight` : undefined}>
                            {pending ? 'Closing…' : busy ? 'Order in flight' : 'Close'}
                          </Button>
                        </TableCell>
                      )}
                    </TableRow>
                  );
                })}
              </TableBody>
            </Table>
          </TableContainer>
        )}
      </QueryView>
      <ConfirmDialog
        open={asking !== null}
        title="Close this position?"
        danger
        confirmLabel="Close at market"
        message={asking && (
          <>
            {asking.position_type} {formatQuantity(Math.abs(asking.quantity))} {asset} opened at{' '}
            {formatPrice(asking.entry_price, asset)} will be closed at market. The close is journaled as a manual
            action under your name.
          </>
        )}
        onConfirm={async () => {
          if (!asking) return;
          const id = asking.id;
          await close.mutateAsync(id);
          setClosing((s) => new Set(s).add(id));
        }}
        onClose={() => setAsking(null)}
      />
    </Box>
  );
}
