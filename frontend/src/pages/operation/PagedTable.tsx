/** A small table with server-side paging over a query that fetched one row more than a page. */
import { memo, type ReactNode } from 'react';
import { Box, Table, TableBody, TableCell, TableContainer, TableHead, TablePagination, TableRow } from '@mui/material';
import type { UseQueryResult } from '@tanstack/react-query';
import { EmptyState, QueryView } from '../../components/states';

export type Column<T> = {
  label: string;
  align?: 'left' | 'right' | 'center';
  render: (row: T) => ReactNode;
  testId?: (row: T) => string;
};

type Props<T> = {
  testId: string;
  query: UseQueryResult<T[]>;
  columns: Column<T>[];
  rowKey: (row: T) => string;
  rowTestId?: (row: T) => string;
  page: number;
  pageSize: number;
  onPage: (page: number) => void;
  onPageSize?: (size: number) => void;
  pageSizes?: number[];
  empty: string;
  /** total rows when known (else: "more" while a page is full) */
  total?: number;
};

/** Rows of the current page: the query fetched `pageSize + 1` to know if another page follows. */
export function pageRows<T>(rows: readonly T[], pageSize: number): { rows: T[]; more: boolean } {
  return { rows: rows.slice(0, pageSize), more: rows.length > pageSize };
}

type RowProps<T> = { row: T; columns: Column<T>[]; testId?: string };

function RowView<T>({ row, columns, testId }: RowProps<T>) {
  return (
    <TableRow data-testid={testId} hover>
      {columns.map((c) => (
        <TableCell key={c.label} align={c.align} data-testid={c.testId?.(row)}>{c.render(row)}</TableCell>
      ))}
    </TableRow>
  );
}

/** Re-rendered only when its row changes: refetches keep unchanged rows (structural sharing). */
const Row = memo(RowView, (a, b) => a.row === b.row && a.testId === b.testId) as typeof RowView;

export function PagedTable<T>({
  testId, query, columns, rowKey, rowTestId, page, pageSize, onPage, onPageSize, pageSizes = [10, 25, 50, 100],
  empty, total,
}: Props<T>) {
  return (
    <Box data-testid={testId}>
      <QueryView query={query} isEmpty={(rows) => rows.length === 0 && page === 0}
        empty={<EmptyState title={empty} />}>
        {(data) => {
          const { rows, more } = pageRows(data, pageSize);
          const count = total ?? (more ? -1 : page * pageSize + rows.length);
          return (
            <>
              <TableContainer>
                <Table size="small">
                  <TableHead>
                    <TableRow>
                      {columns.map((c) => <TableCell key={c.label} align={c.align}>{c.label}</TableCell>)}
                    </TableRow>
                  </TableHead>
                  <TableBody>
                    {rows.map((row) => (
                      <Row key={rowKey(row)} row={row} columns={columns} testId={rowTestId?.(row)} />
                    ))}
                  </TableBody>
                </Table>
              </TableContainer>
              <TablePagination component="div" count={count} page={page} rowsPerPage={pageSize}
                rowsPerPageOptions={onPageSize ? pageSizes : [pageSize]}
                onPageChange={(_, next) => onPage(next)}
                onRowsPerPageChange={(e) => onPageSize?.(Number(e.target.value))} />
            </>
          );
        }}
      </QueryView>
    </Box>
  );
}
