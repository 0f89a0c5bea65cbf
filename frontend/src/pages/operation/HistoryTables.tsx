/** An operation's trades, transactions and orders, newest first, paged by the server. */
import { memo, useState } from 'react';
import { Chip } from '@mui/material';
import { useOrders, useTrades, useTransactions } from '../../api/hooks';
import type { Order, Trade, Transaction } from '../../api/models';
import { PnlText } from '../../components/PnlText';
import {
  formatDateTime, formatDuration, formatMoney, formatPips, formatPrice, formatQuantity, quoteCurrency,
} from '../../format/format';
import { PagedTable, type Column } from './PagedTable';

const DEFAULT_PAGE_SIZE = 25;

/** The query of the orders table's first page (shared: the positions table reads the orders in flight from it). */
export const FIRST_ORDERS_PAGE = { limit: DEFAULT_PAGE_SIZE + 1, offset: 0, sort: 'desc' as const };

function usePaging(initialSize = DEFAULT_PAGE_SIZE) {
  const [page, setPage] = useState(0);
  const [pageSize, setPageSize] = useState(initialSize);
  return {
    page, pageSize, onPage: setPage,
    onPageSize: (size: number) => { setPageSize(size); setPage(0); },
    params: { limit: pageSize + 1, offset: page * pageSize, sort: 'desc' as const },
  };
}

function Side({ side }: { side: string }) {
  const long = side === 'LONG' || side === 'BUY';
  return <Chip size="small" variant="outlined" label={side} color={long ? 'success' : 'error'} />;
}

export const TradesTable = memo(function TradesTable({ operationId, asset, total }: { operationId: string; asset: string; total?: number }) {
  const paging = usePaging();
  const query = useTrades(operationId, paging.params);
  const columns: Column<Trade>[] = [
    { label: 'Side', render: (t) => <Side side={t.position_type} /> },
    { label: 'Entry', render: (t) => formatDateTime(t.entry_time) },
    { label: 'Exit', render: (t) => formatDateTime(t.exit_time) },
    { label: 'Duration', render: (t) => formatDuration(t.duration_seconds) },
    { label: 'Quantity', align: 'right', render: (t) => formatQuantity(t.quantity) },
    { label: 'Entry price', align: 'right', render: (t) => formatPrice(t.entry_price, asset) },
    { label: 'Exit price', align: 'right', render: (t) => formatPrice(t.exit_price, asset) },
    {
      label: 'Move', align: 'right',
      render: (t) => formatPips((t.exit_price - t.entry_price) * (t.position_type === 'LONG' ? 1 : -1), asset),
    },
    { label: 'Net P/L', align: 'right', render: (t) => <PnlText value={t.pnl} asset={asset} /> },
    { label: 'Commission', align: 'right', render: (t) => formatMoney(t.total_commission, quoteCurrency(asset)) },
    { label: 'Exit reason', render: (t) => t.exit_reason ?? '–' },
  ];
  return (
    <PagedTable testId="trades-table" query={query} columns={columns} rowKey={(t) => t.id}
      rowTestId={(t) => `trade-row-${t.id}`} empty="No closed trade yet" total={total} {...paging} />
  );
});

export const TransactionsTable = memo(function TransactionsTable({ operationId, asset }: { operationId: string; asset: string }) {
  const paging = usePaging();
  const query = useTransactions(operationId, paging.params);
  const columns: Column<Transaction>[] = [
    { label: 'Executed', render: (t) => formatDateTime(t.executed_at, { seconds: true }) },
    { label: 'Type', render: (t) => <Side side={t.transaction_type} /> },
    { label: 'Role', render: (t) => t.transaction_role },
    { label: 'Position', render: (t) => t.position_type },
    { label: 'Quantity', align: 'right', render: (t) => formatQuantity(t.quantity) },
    { label: 'Price', align: 'right', render: (t) => formatPrice(t.price, asset) },
    { label: 'Commission', align: 'right', render: (t) => formatMoney(t.commission, quoteCurrency(asset)) },
    {
      label: 'Profit', align: 'right',
      render: (t) => (t.transaction_role === 'EXIT' ? <PnlText value={t.profit} asset={asset} /> : '–'),
    },
    { label: 'Notes', render: (t) => t.notes ?? '' },
  ];
  return (
    <PagedTable testId="transactions-table" query={query} columns={columns} rowKey={(t) => t.id}
      rowTestId={(t) => `transaction-row-${t.id}`} empty="No transaction yet" {...paging} />
  );
});

export const OrdersTable = memo(function OrdersTable({ operationId, asset }: { operationId: string; asset: string }) {
  const paging = usePaging();
  const query = useOrders(operationId, paging.params);
  const columns: Column<Order>[] = [
    { label: 'Placed', render: (o) => formatDateTime(o.placed_at, { seconds: true }) },
    { label: 'Role', render: (o) => o.order_role },
    { label: 'Type', render: (o) => o.order_type },
    { label: 'Side', render: (o) => <Side side={o.action} /> },
    { label: 'Quantity', align: 'right', render: (o) => formatQuantity(o.quantity) },
    { label: 'Price', align: 'right', render: (o) => formatPrice(o.price, asset) },
    { label: 'Status', render: (o) => o.status },
    { label: 'Filled', align: 'right', render: (o) => formatQuantity(o.filled_quantity) },
    { label: 'Avg fill', align: 'right', render: (o) => formatPrice(o.avg_fill_price, asset) },
    { label: 'Filled at', render: (o) => formatDateTime(o.filled_at) },
    { label: 'Reason', render: (o) => o.reason ?? '' },
    { label: 'Client id', render: (o) => o.client_order_id },
  ];
  return (
    <PagedTable testId="orders-table" query={query} columns={columns} rowKey={(o) => o.id}
      rowTestId={(o) => `order-row-${o.id}`} empty="No order yet" {...paging} />
  );
});

